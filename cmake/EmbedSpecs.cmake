# Compiles the built-in net specs (models/specs/*.spec) into the library, so
# `--model alexnet` works wherever the binary is.
file(GLOB CONVSCOPE_SPEC_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/models/specs/*.spec)
set(_entries "")
foreach(_spec ${CONVSCOPE_SPEC_FILES})
  get_filename_component(_name ${_spec} NAME_WE)
  file(READ ${_spec} _text)
  string(APPEND _entries "    {\"${_name}\", R\"CONVSCOPE_SPEC(${_text})CONVSCOPE_SPEC\"},\n")
endforeach()
set(CONVSCOPE_BUILTIN_SPECS_SOURCE ${CMAKE_BINARY_DIR}/generated/builtin_specs.cpp)
file(CONFIGURE OUTPUT ${CONVSCOPE_BUILTIN_SPECS_SOURCE} CONTENT
"// Generated from models/specs/*.spec by cmake/EmbedSpecs.cmake: do not edit.
#include \"models/netspec.h\"

#include \"runtime/error.h\"

namespace cs::models {

namespace {
const std::vector<std::pair<std::string, std::string>>& specs() {
  static const std::vector<std::pair<std::string, std::string>> table = {
${_entries}  };
  return table;
}
}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : specs()) names.push_back(name);
  return names;
}

bool is_builtin_model(const std::string& name) {
  for (const auto& [n, text] : specs())
    if (n == name) return true;
  return false;
}

const std::string& builtin_spec_text(const std::string& name) {
  for (const auto& [n, text] : specs())
    if (n == name) return text;
  CS_FAIL(\"no built-in model named '\" << name << \"'\");
}

}  // namespace cs::models
" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CONVSCOPE_SPEC_FILES})
