// JSON through cJSON, with the checks cJSON does not make: a depth limit
// enforced before parsing, refusal of \u0000 (cJSON would silently truncate
// the string), no trailing garbage, case-sensitive lookups, duplicate-key
// detection, and wiping of every string before the tree is freed.
#pragma once

#include <cstddef>
#include <string_view>

#include "alloc.hpp"

struct cJSON;

namespace lf {

enum class JsonError { None, Syntax, TooDeep, NulEscape };

class Json {
public:
    Json() = default;
    explicit Json(cJSON *root) noexcept : root_(root) {}
    Json(const Json &) = delete;
    Json &operator=(const Json &) = delete;
    Json(Json &&o) noexcept : root_(o.root_) { o.root_ = nullptr; }
    ~Json();
    cJSON *get() const noexcept { return root_; }
    cJSON *release() noexcept {
        cJSON *r = root_;
        root_ = nullptr;
        return r;
    }

    // Parses text as one JSON value. If it is not one, the Json is empty and
    // *err says why. Throws std::bad_alloc when cJSON could not allocate.
    static Json parse(std::string_view text, int max_depth, JsonError *err);

private:
    cJSON *root_ = nullptr;
};

// Case-sensitive member lookup; *count (optional) receives how many members
// carry that name, so callers can refuse duplicates.
const cJSON *member(const cJSON *object, const char *name, int *count = nullptr) noexcept;
bool is_object(const cJSON *v) noexcept;
// The string value, or an empty view for anything else.
std::string_view string_value(const cJSON *v) noexcept;

// Serialises without formatting into `out` (our wiping allocator, not
// cJSON's). Throws std::bad_alloc.
void print(const cJSON *v, String &out);
// Overwrites every string in the tree, then frees it.
void wipe_and_delete(cJSON *root) noexcept;

// Writes `v` as a JSON string (quotes included) into dst, escaped as
// cJSON's printer does; dst has room for json_string_size(v) bytes, the
// exact number written. Returns the end of what was written.
std::size_t json_string_size(std::string_view v) noexcept;
char *write_json_string(char *dst, std::string_view v) noexcept;

// Throws std::bad_alloc when cJSON could not allocate.
cJSON *new_object();

}  // namespace lf
