#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/gemini/provider_request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 24;              // nesting (with inlined refs) kept; deeper schemas become {}
constexpr int kMaxRefs = 3;                // $refs inlined within one another; deeper ones keep their scalars
constexpr std::size_t kNodeBudget = 2000;  // schema nodes one schema may expand to once refs are inlined
constexpr std::string_view kChildren[] = {"properties", "items", "anyOf", "oneOf", "allOf", "$ref"};

constexpr std::string_view kFormats[] = {"enum", "date-time", "float", "double", "int32", "int64"};
constexpr std::string_view kBounds[] = {"minimum", "maximum"};
constexpr std::string_view kCounts[] = {"minItems",  "maxItems",      "minLength",
                                        "maxLength", "minProperties", "maxProperties"};
constexpr std::string_view kTexts[] = {"title", "description", "pattern"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <std::size_t N>
bool listed(const std::string_view (&list)[N], std::string_view key) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

// Gemini's Type name for a JSON Schema type ("" for unknown names).
std::string_view gemini_type(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"string", "STRING"},   {"number", "NUMBER"}, {"integer", "INTEGER"},
      {"boolean", "BOOLEAN"}, {"array", "ARRAY"},   {"object", "OBJECT"}};
  for (auto [json_name, gemini_name] : kTypes)
    if (iequals(name, json_name)) return gemini_name;
  return {};
}

struct Types {
  std::vector<std::string_view> names;  // Gemini names, without null
  bool null = false;
};

Types read_types(const json::object& schema) {
  Types out;
  auto add = [&out](const json::value& t) {
    if (!t.is_string()) return;
    if (iequals(t.get_string(), "null")) {
      out.null = true;
    } else if (auto name = gemini_type(t.get_string());
               !name.empty() && std::find(out.names.begin(), out.names.end(), name) == out.names.end()) {
      out.names.push_back(name);
    }
  };
  if (const auto* t = schema.if_contains("type"); t && t->is_array()) {
    for (const auto& e : t->get_array()) add(e);
  } else if (t) {
    add(*t);
  }
  if (const auto* n = schema.if_contains("nullable"); n && n->is_bool() && n->get_bool()) out.null = true;
  return out;
}

// {"type":"null"} (or ["null"]): a branch that only says "may be null".
bool is_null_schema(const json::value& v) {
  if (!v.is_object() || !v.get_object().contains("type")) return false;
  Types t = read_types(v.get_object());
  return t.null && t.names.empty();
}

void add_enum(const json::object& schema, json::object& out) {
  json::array values;
  if (const auto* e = schema.if_contains("enum"); e && e->is_array()) {
    for (const auto& v : e->get_array()) {
      if (!v.is_string()) return;  // Gemini enums are strings: a mixed or numeric enum is dropped
      values.push_back(v);
    }
  } else if (const auto* c = schema.if_contains("const"); c && c->is_string()) {
    values.push_back(*c);
  }
  if (!values.empty()) out["enum"] = std::move(values);
}

void add_scalars(const json::object& schema, json::object& out) {
  for (auto key : kTexts)
    if (auto text = common::str(schema, key); !text.empty()) out[key] = text;
  if (auto format = common::str(schema, "format"); listed(kFormats, format)) out["format"] = format;
  for (auto key : kBounds)
    if (const auto* v = schema.if_contains(key); v && v->is_number()) out[key] = *v;
  for (auto key : kCounts)
    if (const auto* v = schema.if_contains(key); v && (v->is_uint64() || (v->is_int64() && v->get_int64() >= 0)))
      out[key] = *v;
  add_enum(schema, out);
}

// A type where none was given, from the keywords present; then what Gemini allows for that type only:
// properties/required for OBJECT, items for ARRAY (which Gemini requires: STRING items when none were given).
void fit_type(json::object& out) {
  if (!out.contains("type") && !out.contains("anyOf")) {
    if (out.contains("properties"))
      out["type"] = "OBJECT";
    else if (out.contains("items"))
      out["type"] = "ARRAY";
    else if (out.contains("enum"))
      out["type"] = "STRING";
  }
  auto type = common::str(out, "type");
  if (type != "OBJECT") {
    out.erase("properties");
    out.erase("required");
  }
  if (type != "ARRAY") out.erase("items");
  if (type == "ARRAY" && !out.contains("items")) out["items"] = json::object{{"type", "STRING"}};
}

class Reducer {
 public:
  explicit Reducer(const json::value& root) : root_(root) {}
  json::object reduce(const json::value& v, int depth);

 private:
  json::object reduce_object(const json::object& schema, int depth);
  void add_branches(const json::object& schema, int depth, json::object& out, bool& nullable);
  void add_children(const json::object& schema, int depth, json::object& out);
  const json::value* base_of(const json::object& schema) const;

  const json::value& root_;
  std::size_t nodes_ = 0;
  int refs_ = 0;  // $refs being inlined around the current node
};

// What a schema extends: its local $ref target ("#/$defs/X", "#/definitions/X", any JSON pointer into the
// root), or its only allOf entry; nullptr when neither.
const json::value* Reducer::base_of(const json::object& schema) const {
  if (auto ref = common::str(schema, "$ref"); !ref.empty()) {
    if (!ref.starts_with("#")) return nullptr;
    json::error_code ec;
    const auto* target = root_.find_pointer(ref.substr(1), ec);
    return ec ? nullptr : target;
  }
  const auto* all = schema.if_contains("allOf");
  if (all && all->is_array() && all->get_array().size() == 1) return &all->get_array().front();
  return nullptr;
}

json::object Reducer::reduce(const json::value& v, int depth) {
  if (!v.is_object() || depth > kMaxDepth || ++nodes_ > kNodeBudget) return {};
  const auto& schema = v.get_object();
  const auto* base = base_of(schema);
  if (!base || !base->is_object()) return reduce_object(schema, depth);
  // The base with this schema's own keywords on top (a $ref's siblings, e.g. its description). A recursive
  // definition is unrolled kMaxRefs times, then cut to its type and scalar keywords.
  bool ref = schema.contains("$ref");
  json::object merged(base->get_object());
  for (const auto& kv : schema)
    if (kv.key() != "$ref" && kv.key() != "allOf") merged[kv.key()] = kv.value();
  if (ref && refs_ >= kMaxRefs) {
    for (auto key : kChildren) merged.erase(key);
    return reduce_object(merged, depth);
  }
  refs_ += ref ? 1 : 0;
  auto out = reduce(merged, depth + 1);
  refs_ -= ref ? 1 : 0;
  return out;
}

json::object Reducer::reduce_object(const json::object& schema, int depth) {
  json::object out;
  Types types = read_types(schema);
  bool nullable = types.null;
  add_branches(schema, depth, out, nullable);
  if (types.names.size() == 1) {
    out["type"] = types.names.front();
  } else if (types.names.size() > 1 && !out.contains("anyOf")) {
    json::array any;
    for (auto name : types.names) any.push_back(json::object{{"type", name}});
    out["anyOf"] = std::move(any);
  }
  add_scalars(schema, out);
  add_children(schema, depth, out);
  fit_type(out);
  if (nullable) out["nullable"] = true;
  return out;
}

// anyOf and oneOf (read as anyOf): null branches make the schema nullable; a single remaining branch is
// merged into the schema itself.
void Reducer::add_branches(const json::object& schema, int depth, json::object& out, bool& nullable) {
  json::array branches;
  for (std::string_view key : {"anyOf", "oneOf"}) {
    const auto* list = schema.if_contains(key);
    if (!list || !list->is_array()) continue;
    for (const auto& branch : list->get_array()) {
      if (is_null_schema(branch)) {
        nullable = true;
        continue;
      }
      branches.push_back(reduce(branch, depth + 1));
    }
  }
  if (branches.size() == 1) {
    for (const auto& kv : branches.front().get_object()) out[kv.key()] = kv.value();
  } else if (!branches.empty()) {
    out["anyOf"] = std::move(branches);
  }
}

void Reducer::add_children(const json::object& schema, int depth, json::object& out) {
  if (const auto* items = schema.if_contains("items"); items && items->is_object())
    out["items"] = reduce(*items, depth + 1);
  const auto* p = schema.if_contains("properties");
  if (!p || !p->is_object() || p->get_object().empty()) return;
  json::object properties;
  for (const auto& kv : p->get_object()) properties[kv.key()] = reduce(kv.value(), depth + 1);
  json::array required;
  if (const auto* r = schema.if_contains("required"); r && r->is_array())
    for (const auto& name : r->get_array())
      if (name.is_string() && properties.contains(name.get_string())) required.push_back(name);
  out["properties"] = std::move(properties);
  if (!required.empty()) out["required"] = std::move(required);
}

}  // namespace

json::object gemini_schema(const json::value& json_schema) {
  Reducer reducer(json_schema);
  return reducer.reduce(json_schema, 0);
}

}  // namespace anygpt::formats::gemini
