// The one place where every endpoint is registered, with the 405/404 answers,
// the exception handler and the per-request log line.
#include "routes.hpp"

#include "endpoints.hpp"
#include "reply.hpp"
#include "util.hpp"

#include <cstdio>
#include <exception>
#include <string>

namespace sandbox {
namespace {

httplib::Server::Handler not_allowed(const char *allow) {
    return [allow](const httplib::Request &, httplib::Response &res) {
        res.set_header("Allow", allow);
        send_json(res, 405, oauth_error_json("method_not_allowed", std::string("allowed: ") + allow));
    };
}

enum class Method { get, post };

void route(httplib::Server &svr, const char *path, Method m, httplib::Server::Handler h) {
    httplib::Server::Handler wrong = not_allowed(m == Method::get ? "GET, HEAD" : "POST");
    svr.Get(path, m == Method::get ? h : wrong);
    svr.Post(path, m == Method::post ? h : wrong);
    svr.Put(path, wrong);
    svr.Patch(path, wrong);
    svr.Delete(path, wrong);
    svr.Options(path, wrong);
}

using StoreHandler = void (*)(Store &, const httplib::Request &, httplib::Response &);

httplib::Server::Handler with_store(Store &store, StoreHandler h) {
    return [&store, h](const httplib::Request &req, httplib::Response &res) { h(store, req, res); };
}

void install_endpoints(httplib::Server &svr, Store &store, const Options &opts) {
    route(svr, "/admin/oauth", Method::get, [&store, &opts](const httplib::Request &req, httplib::Response &res) {
        handle_authorize(store, opts, req, res);
    });
    route(svr, "/admin/oauth/decision", Method::post, with_store(store, handle_decision));
    route(svr, "/oauth/access_token", Method::post, with_store(store, handle_token_json));
    route(svr, "/api/access_token", Method::post, with_store(store, handle_token_basic));
    route(svr, "/api/v2", Method::post, with_store(store, handle_graphql));
    route(svr, "/_sandbox/revoke", Method::post, with_store(store, handle_revoke));
    route(svr, "/_sandbox/webhook", Method::post, with_store(store, handle_webhook));
    route(svr, "/_sandbox/event", Method::post, with_store(store, handle_event));
    route(svr, "/_sandbox/uninstall", Method::post, with_store(store, handle_uninstall));
    route(svr, R"(/admin/apps/([^/]+))", Method::get, with_store(store, handle_admin_app));
}

// 404, 413 and the other errors cpp-httplib answers itself get a JSON body;
// an exception a handler lets through is logged (its message only) and is a 500.
void install_error_handlers(httplib::Server &svr) {
    svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request &, httplib::Response &res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const char *key = res.status == 404 ? "not_found" : res.status == 413 ? "payload_too_large" : "bad_request";
        send_json(
            res, res.status,
            oauth_error_json(key, "HTTP " + std::to_string(res.status) + " (see docs/SANDBOX.md for the endpoints)"));
        return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            what = e.what();
        } catch (...) {
        }
        std::fprintf(stderr, "lf-sandbox: internal error: %s\n", log_safe(what, 200).c_str());
        send_json(res, 500, oauth_error_json("server_error", "internal error"));
    });
}

void install_logger(httplib::Server &svr) {
    svr.set_logger([](const httplib::Request &req, const httplib::Response &res) {
        // Path only: the query of /admin/oauth carries state, bodies carry secrets.
        std::string client = take_noted_client();
        std::fprintf(stderr, "lf-sandbox: %s %s %d client_id=%s\n", log_safe(req.method, 16).c_str(),
                     log_safe(req.path, 120).c_str(), res.status, client.empty() ? "-" : log_safe(client, 64).c_str());
        std::fflush(stderr);
    });
}

}  // namespace

void install_routes(httplib::Server &svr, Store &store, const Options &opts) {
    install_endpoints(svr, store, opts);
    install_error_handlers(svr);
    install_logger(svr);
}

}  // namespace sandbox
