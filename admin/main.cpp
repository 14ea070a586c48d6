// ste-admin: `migrate` applies the SQL migrations; `tenant create <slug>` creates a tenant and
// prints its API key once.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "common/tenant_admin.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/schema_migrator.hpp"
#include "common/settings.hpp"

namespace {
std::filesystem::path schema_dir_or_default(const std::string& flag) {
  if (!flag.empty()) return flag;
  auto installed = ste::default_schema_dir();
  if (std::filesystem::is_directory(installed)) return installed;
  return STE_SOURCE_SCHEMA_DIR;  // running from a build tree
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ste;
  CommonSettings common;
  CLI::App app{"ste-admin: database migrations and tenants"};
  add_common_options(app, common);
  app.require_subcommand(1);
  app.fallthrough();  // common options may also follow the subcommand

  std::string schema_dir;
  auto* migrate = app.add_subcommand("migrate", "Apply the SQL migrations (idempotent)");
  migrate->add_option("--schema-dir", schema_dir,
                      "Directory of NNN_name.sql files (default: <prefix>/share/ste/schema)");

  auto* tenant = app.add_subcommand("tenant", "Manage tenants");
  tenant->require_subcommand(1);
  tenant->fallthrough();
  std::string slug, name;
  auto* create = tenant->add_subcommand("create", "Create a tenant; prints its API key once");
  create->add_option("slug", slug, "Tenant slug, [a-z0-9-]{1,63}")->required();
  create->add_option("--name", name, "Display name (default: the slug)");
  auto* integrations = app.add_subcommand("integrations", "A tenant's own webhook targets");
  integrations->require_subcommand(1);
  integrations->fallthrough();
  auto* set = integrations->add_subcommand(
      "set", "Set (or with \"\" clear) a tenant's targets; secrets are never printed");
  set->fallthrough();
  std::string int_slug;
  admin::IntegrationUpdate update;
  set->add_option("slug", int_slug, "Tenant slug")->required();
  set->add_option("--hub-url", update.hub_url, "Notification Hub base URL");
  set->add_option("--hub-api-key", update.hub_api_key, "Notification Hub API key");
  set->add_option("--workflow-url", update.workflow_url, "Workflow Engine URL");
  set->add_option("--workflow-secret", update.workflow_secret, "Workflow Engine HMAC secret");
  CLI11_PARSE(app, argc, argv);

  try {
    log::init("admin", common.log_format, common.log_level);
    PgConnection db(common.database_url);
    if (migrate->parsed()) {
      const auto dir = schema_dir_or_default(schema_dir);
      const int applied = apply_migrations(db, dir);
      log::info("migrations applied",
                {{"applied", applied}, {"version", schema_version(db)}, {"dir", dir.string()}});
      return 0;
    }
    if (set->parsed()) {
      require_schema(db);
      admin::set_integrations(db, int_slug, update);
      log::info("integrations updated", {{"tenant", int_slug}});
      return 0;
    }
    if (create->parsed()) {
      require_schema(db);
      const auto t = admin::create_tenant(db, slug, name);
      JsonWriter w;
      w.begin_object().field("slug", t.slug).field("api_key", t.api_key).end_object();
      fmt::print("{}\n", w.str());
      return 0;
    }
  } catch (const std::exception& e) {
    log::error("ste-admin failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
