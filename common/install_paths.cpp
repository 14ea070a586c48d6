#include "common/install_paths.hpp"

namespace ste {

std::filesystem::path installed_data_dir(std::string_view name) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path share = "share/ste";
  if (ec) return share / name;
  return exe.parent_path().parent_path() / share / name;
}

}  // namespace ste
