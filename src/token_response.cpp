#include "token_response.hpp"

#include <cjson/cJSON.h>

#include "json.hpp"

namespace lf {

ServerError server_error(const cJSON *root) noexcept {
    ServerError se;
    if (!is_object(root)) return se;
    const cJSON *error = member(root, "error");
    if (error && !cJSON_IsNull(error)) {
        se.present = true;
        se.key = string_value(error);
        se.message = string_value(member(root, "error_description"));
        if (se.message.empty()) se.message = string_value(member(root, "message"));
    }
    const cJSON *errors = member(root, "errors");
    if (errors && !cJSON_IsNull(errors)) {
        se.present = true;
        const cJSON *first = cJSON_IsArray(errors) ? errors->child : nullptr;
        if (is_object(first)) {
            if (se.key.empty()) se.key = string_value(member(first, "key"));
            if (se.key.empty()) se.key = string_value(member(first, "name"));
            if (se.message.empty()) se.message = string_value(member(first, "message"));
        }
    }
    return se;
}

bool is_b64token(std::string_view s) noexcept {
    std::size_t i = 0;
    for (; i < s.size(); i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
        if (!ok) break;
    }
    if (i == 0) return false;
    for (; i < s.size(); i++)
        if (s[i] != '=') return false;
    return true;
}

bool contains_nocase(std::string_view hay, std::string_view needle) noexcept {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); i++) {
        std::size_t j = 0;
        for (; j < needle.size(); j++) {
            char a = hay[i + j], b = needle[j];
            if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
            if (a != b) break;
        }
        if (j == needle.size()) return true;
    }
    return false;
}

}  // namespace lf
