// The HTTP endpoints of docs/SANDBOX.md, installed on a cpp-httplib server.
#pragma once

#include "options.hpp"
#include "store.hpp"

#include <httplib.h>

namespace sandbox {

// Registers every endpoint, the 405/404 answers and the per-request log line
// (stderr: method, path, status, client_id; never a query string, body,
// code, token or secret). `store` and `opts` must outlive the server.
void install_routes(httplib::Server &svr, Store &store, const Options &opts);

}  // namespace sandbox
