// A small GraphQL reader: one executable operation (query or mutation) with
// variable definitions, fields, aliases, arguments and nested selections, as
// in the GraphQL spec (October 2021) minus fragments and directives, which
// the sandbox refuses by name. graphql.cpp executes what this returns.
#pragma once

#include "util.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sandbox {
namespace gql {

// A literal or a variable reference, as written in the document.
struct Value {
    enum class Kind { variable, null, boolean, integer, floating, string, enumeration, list, object };
    Kind kind = Kind::null;
    std::string text;  // the variable's name, the literal's text or the decoded string
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> fields;
};

// A type reference: `Name`, `[Type]`, with `!` for non-null.
struct TypeRef {
    std::string name;               // empty for a list
    std::shared_ptr<TypeRef> item;  // the list's item type
    bool non_null = false;
    std::string spelling() const;  // "WebhookInput!", "[ID!]"
};

struct VariableDef {
    std::string name;
    TypeRef type;
    bool has_default = false;
    Value default_value;
};

struct Field {
    std::string alias;  // the response key: the alias, else the name
    std::string name;
    std::vector<std::pair<std::string, Value>> args;
    std::vector<Field> selections;  // empty for a leaf
    bool has_selections = false;
};

struct Operation {
    std::string kind;  // "query" or "mutation" (or "subscription", refused later)
    std::string name;
    std::vector<VariableDef> variables;
    std::vector<Field> selections;
};

// Parses `doc` as a document holding exactly one operation. False with
// `why` set on a syntax error, a fragment, a directive, several operations or
// nesting deeper than 32 levels.
bool parse(const std::string &doc, Operation &op, std::string &why);

// The JSON value of `v`, variables taken from `vars` (an object, may be
// null). Enum literals become cJSON raw items so that a String field can
// tell them from strings. Null (with `why`) for an unknown variable.
Json to_json(const Value &v, const cJSON *vars, std::string &why);

}  // namespace gql
}  // namespace sandbox
