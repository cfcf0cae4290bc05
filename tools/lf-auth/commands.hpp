// lf-auth: the subcommands, one file each; main.cpp dispatches. Each takes
// the arguments after its name and returns the exit status; usage and local
// errors are thrown (UsageError, LocalError) for main() to report.
#ifndef LF_AUTH_COMMANDS_HPP
#define LF_AUTH_COMMANDS_HPP

#include <string>
#include <vector>

namespace lfcli {

using Args = std::vector<std::string>;

int cmd_login(const Args &args);           // login.cpp
int cmd_consent_url(const Args &args);     // consent_url.cpp
int cmd_callback(const Args &args);        // callback.cpp
int cmd_exchange(const Args &args);        // exchange.cpp
int cmd_account(const Args &args);         // account.cpp
int cmd_graphql(const Args &args);         // graphql.cpp
int cmd_webhook_sign(const Args &args);    // webhook.cpp
int cmd_webhook_verify(const Args &args);  // webhook.cpp
int cmd_webhooks(const Args &args);        // webhooks.cpp: create, list, delete

}  // namespace lfcli

#endif
