#include "gql_parse.hpp"

#include <cctype>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace sandbox {
namespace gql {
namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxTokens = 100000;

struct Token {
    enum class Kind { punct, name, integer, floating, string, end };
    Kind kind = Kind::end;
    std::string text;  // decoded for strings
};

// Thrown inside the parser, caught by parse(): the message is `why`.
struct SyntaxError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

bool is_name_start(char c) { return c == '_' || std::isalpha(static_cast<unsigned char>(c)); }
bool is_name_char(char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string &out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Lexer {
public:
    explicit Lexer(const std::string &s) : s_(s) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            skip_ignored();
            if (out.size() > kMaxTokens) throw SyntaxError("the document is too long");
            if (i_ >= s_.size()) break;
            out.push_back(next());
        }
        out.push_back(Token{});
        return out;
    }

private:
    // Whitespace, line ends, commas, comments and a byte order mark.
    void skip_ignored() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
                ++i_;
            } else if (s_.compare(i_, 3, "\xEF\xBB\xBF") == 0) {
                i_ += 3;
            } else if (c == '#') {
                while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') ++i_;
            } else {
                return;
            }
        }
    }

    Token next() {
        char c = s_[i_];
        if (s_.compare(i_, 3, "...") == 0) {
            i_ += 3;
            return Token{Token::Kind::punct, "..."};
        }
        if (std::string("!$&()::=@[]{|}").find(c) != std::string::npos) {
            ++i_;
            return Token{Token::Kind::punct, std::string(1, c)};
        }
        if (is_name_start(c)) {
            size_t start = i_;
            while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
            return Token{Token::Kind::name, s_.substr(start, i_ - start)};
        }
        if (c == '-' || is_digit(c)) return number();
        if (s_.compare(i_, 3, "\"\"\"") == 0) return block_string();
        if (c == '"') return string();
        throw SyntaxError("unexpected character at offset " + std::to_string(i_));
    }

    void digits() {
        size_t start = i_;
        while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
        if (i_ == start) throw SyntaxError("malformed number at offset " + std::to_string(start));
    }

    Token number() {
        size_t start = i_;
        bool floating = false;
        if (s_[i_] == '-') ++i_;
        if (i_ < s_.size() && s_[i_] == '0' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))
            throw SyntaxError("a number may not start with 0");
        digits();
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            digits();
            floating = true;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            digits();
            floating = true;
        }
        if (i_ < s_.size() && (is_name_start(s_[i_]) || s_[i_] == '.'))
            throw SyntaxError("malformed number at offset " + std::to_string(start));
        return Token{floating ? Token::Kind::floating : Token::Kind::integer, s_.substr(start, i_ - start)};
    }

    unsigned long hex4() {
        if (i_ + 4 > s_.size()) throw SyntaxError("bad \\u escape");
        unsigned long v = 0;
        for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            v <<= 4;
            if (is_digit(h))
                v |= static_cast<unsigned long>(h - '0');
            else if (h >= 'a' && h <= 'f')
                v |= static_cast<unsigned long>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                v |= static_cast<unsigned long>(h - 'A' + 10);
            else
                throw SyntaxError("bad \\u escape");
        }
        return v;
    }

    void escape(std::string &out) {
        if (i_ >= s_.size()) throw SyntaxError("unterminated string");
        char e = s_[i_++];
        switch (e) {
        case '"':
            out += '"';
            break;
        case '\\':
            out += '\\';
            break;
        case '/':
            out += '/';
            break;
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            unsigned long cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF && s_.compare(i_, 2, "\\u") == 0) {
                i_ += 2;
                unsigned long lo = hex4();
                if (lo < 0xDC00 || lo > 0xDFFF) throw SyntaxError("bad surrogate pair");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                throw SyntaxError("lone surrogate in a string");
            }
            if (cp == 0) throw SyntaxError("\\u0000 in a string");
            append_utf8(out, cp);
            break;
        }
        default:
            throw SyntaxError("bad escape in a string");
        }
    }

    Token string() {
        std::string out;
        ++i_;
        for (;;) {
            if (i_ >= s_.size() || s_[i_] == '\n' || s_[i_] == '\r') throw SyntaxError("unterminated string");
            char c = s_[i_++];
            if (c == '"') break;
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') throw SyntaxError("control character in a string");
            if (c == '\\')
                escape(out);
            else
                out += c;
        }
        return Token{Token::Kind::string, out};
    }

    // """...""" with \""" as the only escape; the spec's indentation
    // stripping is not needed by anything the sandbox reads.
    Token block_string() {
        std::string out;
        i_ += 3;
        for (;;) {
            if (i_ >= s_.size()) throw SyntaxError("unterminated block string");
            if (s_.compare(i_, 3, "\"\"\"") == 0) {
                i_ += 3;
                return Token{Token::Kind::string, out};
            }
            if (s_.compare(i_, 4, "\\\"\"\"") == 0) {
                out += "\"\"\"";
                i_ += 4;
            } else {
                out += s_[i_++];
            }
        }
    }

    const std::string &s_;
    size_t i_ = 0;
};

class Parser {
public:
    explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

    Operation document() {
        Operation op = operation();
        if (peek().kind != Token::Kind::end) {
            if (is_name("fragment") || is_punct("...")) throw SyntaxError("lf-sandbox does not support fragments");
            throw SyntaxError("lf-sandbox takes one operation per document");
        }
        return op;
    }

private:
    const Token &peek() const { return t_[p_]; }
    bool is_punct(const char *s) const { return peek().kind == Token::Kind::punct && peek().text == s; }
    bool is_name(const char *s) const { return peek().kind == Token::Kind::name && peek().text == s; }

    std::string describe() const {
        return peek().kind == Token::Kind::end ? "the end of the document" : "\"" + peek().text + "\"";
    }

    void expect(const char *punct) {
        if (!is_punct(punct)) throw SyntaxError(std::string("expected \"") + punct + "\", found " + describe());
        ++p_;
    }

    std::string name() {
        if (peek().kind != Token::Kind::name) throw SyntaxError("expected a name, found " + describe());
        return t_[p_++].text;
    }

    void refuse_unsupported() {
        if (is_punct("@")) throw SyntaxError("lf-sandbox does not support directives");
        if (is_punct("...")) throw SyntaxError("lf-sandbox does not support fragments");
    }

    void descend(int &depth) {
        if (++depth > kMaxDepth) throw SyntaxError("the document nests too deeply");
    }

    Operation operation() {
        Operation op;
        if (is_punct("{")) {
            op.kind = "query";
        } else {
            op.kind = name();
            if (op.kind != "query" && op.kind != "mutation" && op.kind != "subscription")
                throw SyntaxError("expected query, mutation or \"{\", found \"" + op.kind + "\"");
            if (peek().kind == Token::Kind::name) op.name = name();
            if (is_punct("(")) op.variables = variable_definitions();
            refuse_unsupported();
        }
        op.selections = selection_set(0);
        return op;
    }

    std::vector<VariableDef> variable_definitions() {
        std::vector<VariableDef> defs;
        expect("(");
        do {
            VariableDef d;
            expect("$");
            d.name = name();
            expect(":");
            d.type = type(0);
            if (is_punct("=")) {
                ++p_;
                d.default_value = value(true, 0);
                d.has_default = true;
            }
            refuse_unsupported();
            for (const auto &e : defs)
                if (e.name == d.name) throw SyntaxError("variable $" + d.name + " is defined twice");
            defs.push_back(std::move(d));
        } while (!is_punct(")"));
        ++p_;
        return defs;
    }

    TypeRef type(int depth) {
        descend(depth);
        TypeRef t;
        if (is_punct("[")) {
            ++p_;
            t.item = std::make_shared<TypeRef>(type(depth));
            expect("]");
        } else {
            t.name = name();
        }
        if (is_punct("!")) {
            ++p_;
            t.non_null = true;
        }
        return t;
    }

    std::vector<Field> selection_set(int depth) {
        descend(depth);
        std::vector<Field> fields;
        expect("{");
        do {
            refuse_unsupported();
            fields.push_back(field(depth));
        } while (!is_punct("}"));
        ++p_;
        return fields;
    }

    Field field(int depth) {
        Field f;
        f.name = name();
        if (is_punct(":")) {
            ++p_;
            f.alias = f.name;
            f.name = name();
        } else {
            f.alias = f.name;
        }
        if (is_punct("(")) {
            ++p_;
            do {
                std::string n = name();
                expect(":");
                for (const auto &a : f.args)
                    if (a.first == n) throw SyntaxError("argument " + n + " is given twice");
                f.args.emplace_back(n, value(false, depth));
            } while (!is_punct(")"));
            ++p_;
        }
        refuse_unsupported();
        if (is_punct("{")) {
            f.selections = selection_set(depth);
            f.has_selections = true;
        }
        return f;
    }

    Value value(bool constant, int depth) {
        descend(depth);
        Value v;
        const Token &tok = peek();
        if (tok.kind == Token::Kind::punct && tok.text == "$") {
            if (constant) throw SyntaxError("a default value cannot use a variable");
            ++p_;
            v.kind = Value::Kind::variable;
            v.text = name();
            return v;
        }
        if (tok.kind == Token::Kind::punct && tok.text == "[") {
            ++p_;
            v.kind = Value::Kind::list;
            while (!is_punct("]")) v.items.push_back(value(constant, depth));
            ++p_;
            return v;
        }
        if (tok.kind == Token::Kind::punct && tok.text == "{") {
            ++p_;
            v.kind = Value::Kind::object;
            while (!is_punct("}")) {
                std::string n = name();
                expect(":");
                for (const auto &f : v.fields)
                    if (f.first == n) throw SyntaxError("input field " + n + " is given twice");
                v.fields.emplace_back(n, value(constant, depth));
            }
            ++p_;
            return v;
        }
        v.text = tok.text;
        switch (tok.kind) {
        case Token::Kind::integer:
            v.kind = Value::Kind::integer;
            break;
        case Token::Kind::floating:
            v.kind = Value::Kind::floating;
            break;
        case Token::Kind::string:
            v.kind = Value::Kind::string;
            break;
        case Token::Kind::name:
            v.kind = tok.text == "true" || tok.text == "false" ? Value::Kind::boolean
                     : tok.text == "null"                      ? Value::Kind::null
                                                               : Value::Kind::enumeration;
            break;
        default:
            throw SyntaxError("expected a value, found " + describe());
        }
        ++p_;
        return v;
    }

    std::vector<Token> t_;
    size_t p_ = 0;
};

cJSON *checked(cJSON *item) {
    if (!item) throw std::bad_alloc();
    return item;
}

}  // namespace

std::string TypeRef::spelling() const {
    std::string s = item ? "[" + item->spelling() + "]" : name;
    return non_null ? s + "!" : s;
}

bool parse(const std::string &doc, Operation &op, std::string &why) {
    try {
        op = Parser(Lexer(doc).run()).document();
        return true;
    } catch (const SyntaxError &e) {
        why = e.what();
        return false;
    }
}

Json to_json(const Value &v, const cJSON *vars, std::string &why) {
    switch (v.kind) {
    case Value::Kind::variable: {
        const cJSON *bound = vars ? cJSON_GetObjectItemCaseSensitive(vars, v.text.c_str()) : nullptr;
        if (!bound) {
            why = "variable $" + v.text + " is not defined by the operation";
            return nullptr;
        }
        return Json(checked(cJSON_Duplicate(bound, 1)));
    }
    case Value::Kind::null:
        return Json(checked(cJSON_CreateNull()));
    case Value::Kind::boolean:
        return Json(checked(cJSON_CreateBool(v.text == "true")));
    case Value::Kind::integer:
    case Value::Kind::floating:
        return Json(checked(cJSON_CreateNumber(std::strtod(v.text.c_str(), nullptr))));
    case Value::Kind::string:
        return Json(checked(cJSON_CreateString(v.text.c_str())));
    case Value::Kind::enumeration:
        return Json(checked(cJSON_CreateRaw(v.text.c_str())));
    case Value::Kind::list: {
        Json out(checked(cJSON_CreateArray()));
        for (const auto &item : v.items) {
            Json j = to_json(item, vars, why);
            if (!j) return nullptr;
            cJSON_AddItemToArray(out.get(), j.release());
        }
        return out;
    }
    case Value::Kind::object: {
        Json out(checked(cJSON_CreateObject()));
        for (const auto &f : v.fields) {
            Json j = to_json(f.second, vars, why);
            if (!j) return nullptr;
            cJSON_AddItemToObject(out.get(), f.first.c_str(), j.release());
        }
        return out;
    }
    }
    return nullptr;
}

}  // namespace gql
}  // namespace sandbox
