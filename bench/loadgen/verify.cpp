#include "verify.hpp"

#include <pqxx/pqxx>

namespace confab::bench {
namespace {

std::string uuid_array(const std::vector<std::string>& ids) {
    return "{" + pqxx::separated_list(",", ids.begin(), ids.end()) + "}";
}

}  // namespace

Verification verify_stored(const std::string& database_url, const std::vector<std::string>& chat_ids,
                           const std::vector<AckedMessage>& acked) {
    Verification result;
    result.acked = acked.size();
    pqxx::connection c(database_url);
    pqxx::read_transaction tx(c);
    std::vector<std::string> ids;
    ids.reserve(acked.size());
    for (const auto& message : acked) ids.push_back(message.id);
    result.acked_found = tx.exec_params1("SELECT count(*) FROM messages WHERE id = ANY($1::uuid[])", uuid_array(ids))[0]
                             .as<std::uint64_t>();
    // UNIQUE (chat_id, seq) rules out duplicates, so count = max = last_seq and min = 1 means 1..N.
    const auto chats = tx.exec_params(
        "SELECT c.last_seq, count(m.seq), coalesce(min(m.seq), 1), coalesce(max(m.seq), 0) "
        "FROM chats c LEFT JOIN messages m ON m.chat_id = c.id WHERE c.id = ANY($1::uuid[]) GROUP BY c.id",
        uuid_array(chat_ids));
    result.chats = chat_ids.size();
    for (const auto& row : chats) {
        const auto last_seq = row[0].as<std::int64_t>(), count = row[1].as<std::int64_t>();
        result.stored += static_cast<std::uint64_t>(count);
        if (count == last_seq && row[2].as<std::int64_t>() == 1 && row[3].as<std::int64_t>() == last_seq)
            ++result.contiguous_chats;
    }
    return result;
}

}  // namespace confab::bench
