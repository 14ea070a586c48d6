#pragma once
/// Where installed data lives relative to the running binary: `<dir of executable>/../share/ste/
/// <name>`, so any install prefix works (/usr, /usr/local, a build tree, which links
/// share/ste/web and has the schema passed explicitly).
#include <filesystem>
#include <string_view>

namespace ste {

std::filesystem::path installed_data_dir(std::string_view name);

}  // namespace ste
