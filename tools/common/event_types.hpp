// The webhook event types the platform documents (LightFunnels/developer,
// webhooks.mdx, "Event Types"), in its order. One list for both tools:
// lf-auth warns about a name outside it, lf-sandbox refuses one.
#pragma once

#include <string_view>

namespace lf_tools {

inline constexpr const char *kEventTypes[] = {
    "order/created",        "order/confirmed",    "order/fulfilled", "order/cancelled",  "order/uncancelled",
    "order/refunded",       "order-item/created", "order/updated",   "payment/created",  "payment/paid",
    "contact-form/created", "contact/signup",     "contact/updated", "checkout/created", "checkout/updated",
    "product/updated",      "product/created",    "product/deleted", "funnel/created",   "funnel/updated",
    "funnel/deleted",       "app/uninstalled"};

inline bool is_event_type(std::string_view type) noexcept {
    for (std::string_view t : kEventTypes)
        if (type == t) return true;
    return false;
}

}  // namespace lf_tools
