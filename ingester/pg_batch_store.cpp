#include "ingester/pg_batch_store.hpp"

namespace ste::ingest {

PgBatchStore::PgBatchStore(const std::string& database_url, WriteMethod method)
    : db_(database_url), method_(method) {}

WriteResult PgBatchStore::write(std::span<const BufferedReading> readings) {
  if (!db_.healthy()) db_.reconnect();
  return BatchWriter(db_, method_).write(readings);
}

BatchStoreFactory pg_batch_store_factory(std::string database_url, WriteMethod method) {
  return [url = std::move(database_url), method]() -> std::unique_ptr<BatchStore> {
    return std::make_unique<PgBatchStore>(url, method);
  };
}

}  // namespace ste::ingest
