// ste-admin: `migrate` applies the SQL migrations; `tenant create <slug>` creates a tenant and
// prints its first API key once; `key create|list|revoke` manages a tenant's named API keys;
// `devices register <slug>` registers device keys ahead, in bulk.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "admin/dead_letters.hpp"
#include "admin/device_keys.hpp"
#include "common/api_keys.hpp"
#include "common/device_admin.hpp"
#include "common/identifiers.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/schema_migrator.hpp"
#include "common/settings.hpp"
#include "common/tenant_admin.hpp"

namespace {
std::filesystem::path schema_dir_or_default(const std::string& flag) {
  if (!flag.empty()) return flag;
  auto installed = ste::default_schema_dir();
  if (std::filesystem::is_directory(installed)) return installed;
  return STE_SOURCE_SCHEMA_DIR;  // running from a build tree
}

std::int64_t tenant_id_of(ste::PgConnection& db, const std::string& slug) {
  auto t = db.exec("SELECT id FROM tenants WHERE slug = $1", {slug});
  if (t.rows() == 0) throw std::runtime_error(fmt::format("no tenant with slug '{}'", slug));
  return t.int64(0, 0);
}

void write_key(ste::JsonWriter& w, const ste::admin::ApiKeyInfo& k) {
  w.field("id", k.id).field("name", k.name);
  w.field("role", ste::admin::key_role_name(k.role)).field("created_at", k.created_at);
}

/// The key on success; a KeyError becomes the command's failure (logged, exit 1).
template <class T>
const T& key_or_throw(const ste::admin::KeyResult<T>& r) {
  if (const auto* e = std::get_if<ste::admin::KeyError>(&r)) throw std::runtime_error(e->message);
  return std::get<T>(r);
}

/// `key create|list|revoke`: each prints one JSON object on stdout; only create shows a secret.
int key_command(ste::PgConnection& db, const std::string& sub, const std::string& slug,
                const std::string& name, const std::string& role, const std::string& which) {
  using namespace ste;
  const std::int64_t tenant = tenant_id_of(db, slug);
  JsonWriter w;
  w.begin_object().field("tenant", slug);
  if (sub == "create") {
    const auto r = admin::parse_key_role(role);
    if (!r) throw std::runtime_error(fmt::format("--role must be {}", admin::kKeyRoleRule));
    const auto created = admin::create_api_key(db, tenant, name, *r);
    const auto& k = key_or_throw(created);
    write_key(w, k.info);
    w.field("key", k.key);
    log::info("api key created", {{"tenant", slug}, {"name", k.info.name}, {"id", k.info.id}});
  } else if (sub == "list") {
    w.key("keys").begin_array();
    for (const auto& k : admin::list_api_keys(db, tenant)) {
      w.begin_object();
      write_key(w, k);
      w.end_object();
    }
    w.end_array();
  } else {
    const auto revoked = admin::revoke_api_key(db, tenant, which, admin::KeyLookup::id_or_name);
    const auto& k = key_or_throw(revoked);
    write_key(w, k);
    log::info("api key revoked", {{"tenant", slug}, {"name", k.name}, {"id", k.id}});
  }
  w.end_object();
  fmt::print("{}\n", w.str());
  return 0;
}

/// `devices register`: registers the valid keys (idempotent, not subject to the ingester's
/// new-device cap), prints {"tenant", "created", "existing", "invalid": [{line, key}]} and
/// answers 1 when any line was invalid, 0 otherwise.
int register_devices_from(ste::PgConnection& db, const std::string& slug, std::istream& in) {
  using namespace ste;
  auto t = db.exec("SELECT id FROM tenants WHERE slug = $1", {slug});
  if (t.rows() == 0) throw std::runtime_error(fmt::format("no tenant with slug '{}'", slug));
  const auto list = admin::read_device_keys(in);
  if (in.bad()) throw std::runtime_error("cannot read the device keys");
  admin::DeviceRegistration done;
  if (!list.keys.empty()) done = admin::register_devices(db, t.int64(0, 0), list.keys);
  JsonWriter w;
  w.begin_object().field("tenant", slug).field("created", done.created);
  w.field("existing", done.existing).key("invalid").begin_array();
  for (const auto& bad : list.invalid) {
    w.begin_object().field("line", static_cast<std::uint64_t>(bad.line));
    w.field("key", bad.text).end_object();
  }
  w.end_array().end_object();
  fmt::print("{}\n", w.str());
  if (!list.invalid.empty()) {
    log::error(fmt::format("device keys rejected: each must be {}", ident::kDeviceKeyRule),
               {{"invalid", list.invalid.size()}, {"first_line", list.invalid.front().line}});
    return 1;
  }
  log::info("devices registered",
            {{"tenant", slug}, {"created", done.created}, {"existing", done.existing}});
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ste;
  CommonSettings common;
  CLI::App app{"ste-admin: database migrations, tenants, API keys and devices"};
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
  auto* key = app.add_subcommand("key", "Manage a tenant's named API keys and their roles");
  key->require_subcommand(1);
  key->fallthrough();
  std::string key_slug, key_name, key_role, key_which;
  auto* key_create = key->add_subcommand(
      "create", "Create a key; prints it once (rotate: create a second key, switch, revoke)");
  key_create->fallthrough();
  key_create->add_option("slug", key_slug, "Tenant slug")->required();
  key_create->add_option("--name", key_name, "Key name, 1-64 characters of [A-Za-z0-9_.@-]")
      ->required();
  key_create->add_option("--role", key_role, "operator (reads and changes) or viewer (reads only)")
      ->required()
      ->check(CLI::IsMember({"operator", "viewer"}));
  auto* key_list = key->add_subcommand("list", "The tenant's live keys (never their secrets)");
  key_list->fallthrough();
  key_list->add_option("slug", key_slug, "Tenant slug")->required();
  auto* key_revoke = key->add_subcommand(
      "revoke", "Revoke a key now (refused for the tenant's last operator key)");
  key_revoke->fallthrough();
  key_revoke->add_option("slug", key_slug, "Tenant slug")->required();
  key_revoke->add_option("key", key_which, "The key's name or id")->required();
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
  auto* devices = app.add_subcommand("devices", "Register devices ahead");
  devices->require_subcommand(1);
  devices->fallthrough();
  std::string dev_slug, keys_file;
  auto* reg = devices->add_subcommand(
      "register",
      "Register device keys in bulk (idempotent; not subject to STE_MAX_NEW_DEVICES_PER_MINUTE): "
      "one key per line or a CSV whose first column is the key, header optional");
  reg->fallthrough();
  reg->add_option("slug", dev_slug, "Tenant slug")->required();
  reg->add_option("--file", keys_file, "File of keys or CSV (default: standard input)");
  auto* dead = app.add_subcommand("dead-letters", "Inspect and replay ste.dead.<stream> (NATS)");
  dead->require_subcommand(1);
  dead->fallthrough();
  std::string dead_stream;
  std::size_t dead_limit = 100;
  bool dead_data = false;
  auto* dead_list = dead->add_subcommand("list", "One JSON line per dead letter, oldest first");
  dead_list->fallthrough();
  dead_list->add_option("--stream", dead_stream, "Only this stream's (STE_BATCHES, SENSORS)");
  dead_list->add_option("--limit", dead_limit, "At most this many")->capture_default_str();
  dead_list->add_flag("--data", dead_data, "Include each message's data");
  std::vector<std::uint64_t> replay_seqs;
  bool replay_all = false;
  auto* dead_replay = dead->add_subcommand(
      "replay", "Publish dead letters again on their original subject, then delete them");
  dead_replay->fallthrough();
  dead_replay->add_option("--seq", replay_seqs, "Sequence(s) from `list`");
  dead_replay->add_flag("--all", replay_all, "Every dead letter (of --stream when given)");
  dead_replay->add_option("--stream", dead_stream, "With --all: only this stream's");
  CLI11_PARSE(app, argc, argv);

  try {
    log::init("admin", common.log_format, common.log_level);
    if (dead->parsed()) {
      return admin::dead_letters_command(common.nats, dead_list->parsed(), dead_stream, dead_limit,
                                         dead_data, replay_seqs, replay_all);
    }
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
    if (reg->parsed()) {
      require_schema(db);
      if (keys_file.empty()) return register_devices_from(db, dev_slug, std::cin);
      std::ifstream file(keys_file);
      if (!file) throw std::runtime_error(fmt::format("cannot open '{}'", keys_file));
      return register_devices_from(db, dev_slug, file);
    }
    if (key->parsed()) {
      require_schema(db);
      const std::string sub = key_create->parsed() ? "create"
                              : key_list->parsed() ? "list"
                                                   : "revoke";
      return key_command(db, sub, key_slug, key_name, key_role, key_which);
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
