// The platform's webhook events (LightFunnels/developer, webhooks.mdx): the
// documented types and a payload for each, {"node": {...}} in the shapes the
// docs show.
#pragma once

#include <string>

#include "../common/event_types.hpp"

namespace sandbox {

// The event types webhooks.mdx lists (one list for both tools).
using lf_tools::is_event_type;

// The compact JSON body of a `type` event for `account_id`:
// {"node": {...}}. Ids are fresh on every call (apps deduplicate by them);
// order and customer nodes carry non-ASCII UTF-8 and escaped quotes, so a
// receiver that re-serialises instead of verifying the raw bytes fails.
// app/uninstalled is {"node":{"id":"<account_id>"}}.
std::string event_payload(const std::string &type, const std::string &account_id);

}  // namespace sandbox
