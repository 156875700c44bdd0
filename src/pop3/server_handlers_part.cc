// POP4 PART (POP4.md "Part commands", docs/pop4.md), TRANSACTION state only (command_table.cc):
//   PART msg                 "+OK N parts", one line per part (part_listing.h), "."
//   PART msg section         "+OK octets", the part's body as stored, dot-stuffed, "."
//   PART msg section MIME    the same with the part's header lines
// `octets` is the range's wire size (every line end as CRLF), so it is exactly what a client
// keeps after un-stuffing. Errors, all before any "+OK", leave the session as it was:
//   a message that does not exist or is marked deleted  -ERR No such message.
//   a section the message does not have                 -ERR No such part.
//   a message over the structure limits                 -ERR [SYS/PERM] ... (RETR still works;
//     permanent like POP4.md's STOR over the size limit: asking again cannot help)
//   the store failing to open or read it                as RETR (error_mapping)
// Syntax errors (bad number, bad section, a third word other than MIME, extra words) are
// refused by the parser before this runs.
//
// Reading the structure scans the whole message through the store's reader, here on the
// session's thread (like RETR's reads, in 64 KiB blocks; a 50 MB message is scanned once,
// never held). The structure of the message PART last named is kept, so "PART 1" then
// "PART 1 2" scan once. A part is streamed like RETR (MessageProducer, DotStuffer), from a
// reader of just its range: store readers cannot seek, so the octets before the part are read
// and dropped (mime::ExtentReader), and nothing after it is read.
//
// Must never: hold a message in memory, answer "+OK" before it knows the size it announces,
// or keep more than one small structure per session. Thread-safety: part of SessionCore.
#include <algorithm>
#include <memory>
#include <span>
#include <utility>

#include "base/log.h"
#include "mime/extent_reader.h"
#include "mime/mime_structure.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {
namespace {

// The largest structure kept between commands (about 100 parts); a bigger one is scanned again
// when asked for again. Real mail has fewer than 20 parts, which take about 3 KiB.
constexpr size_t kMaxCachedStructureOctets = 16 * 1024;

// One part's header or body as a store reader (mime::ExtentReader skips to it a block at a
// time, since store readers cannot seek), so that MessageProducer streams it as it streams RETR.
class PartReader final : public store::MessageReader {
 public:
  PartReader(store::MessageReaderPtr message, const mime::Extent& extent)
      : message_(std::move(message)),
        extent_([this](std::span<char> out) { return message_->read(out); }, extent) {}
  PartReader(PartReader&&) = delete;  // extent_ calls back into this object
  Result<size_t> read(std::span<char> out) override { return extent_.read(out); }

 private:
  store::MessageReaderPtr message_;
  mime::ExtentReader extent_;
};

size_t approximate_octets(const std::vector<mime::PartInfo>& parts) {
  size_t octets = sizeof(parts) + parts.capacity() * sizeof(mime::PartInfo);
  for (const mime::PartInfo& part : parts) {
    octets += part.section.capacity() + part.type.capacity() + part.name.capacity();
  }
  return octets;
}

const mime::PartInfo* find_section(const std::vector<mime::PartInfo>& parts,
                                   std::string_view section) {
  // The parser and mime/ both spell sections without leading zeros, so equal means equal text.
  auto it = std::find_if(parts.begin(), parts.end(),
                         [section](const mime::PartInfo& p) { return p.section == section; });
  return it == parts.end() ? nullptr : &*it;
}

}  // namespace

void SessionCore::handle_part(const ParsedCommand& command) {
  const MessageNumber number = *command.args.message;
  auto index = live_message(number);
  if (!index) {
    reply_err(kNoSuchMessage);
    return;
  }
  Result<PartList> parts = message_structure(*index);
  if (!parts.is_ok()) {
    if (parts.status().code() == ErrorCode::kLimit) {
      log::info("part-over-limits")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("msg", number.value)
          .kv("reason", parts.status().message());
      reply_err("Message is too complex for PART; use RETR.", ResponseCode::kSysPerm);
      return;
    }
    log::warning("message-read-failed")
        .kv("user", log_user())
        .kv("rip", remote_ip_)
        .kv("msg", number.value)
        .kv("reason", parts.status().to_string());
    WireError error = map_error(parts.status().code(), Operation::kReadMessage);
    reply_err(error.text, error.code);
    return;
  }
  if (command.args.section.empty()) {
    reply_ok(plural((*parts)->size(), "part"));
    start_stream(StreamKind::kList, std::make_unique<PartListProducer>(*parts, utf8_));
    return;
  }
  const mime::PartInfo* part = find_section(**parts, command.args.section);
  if (part == nullptr) {
    reply_err("No such part.");
    return;
  }
  const mime::Extent extent = command.args.mime ? part->header : part->body;
  store::MessageReaderPtr reader = open_reader(number, *index);
  if (!reader) {
    return;
  }
  DotStufferOptions options;
  options.nul_to_0x80 = config_.workaround_outlook_no_nuls;  // the client is the same client
  reply_ok(std::to_string(extent.wire_octets));              // POP4.md: "+OK octets"
  stream_expected_octets_ = extent.wire_octets;
  start_stream(StreamKind::kPart, std::make_unique<MessageProducer>(
                                      std::make_unique<PartReader>(std::move(reader), extent),
                                      options, extent.wire_octets));
}

Result<PartList> SessionCore::message_structure(MessageIndex index) {
  if (structure_cache_ && structure_cache_->index == index) {
    return structure_cache_->parts;
  }
  structure_cache_.reset();  // one structure at a time, even while the next one is read
  Result<store::MessageReaderPtr> reader = drop().open_message(index.value);
  if (!reader.is_ok()) {
    return reader.status();
  }
  if (!*reader) {
    return Status::temporary("store returned no reader");
  }
  store::MessageReader& message = **reader;
  Result<std::vector<mime::PartInfo>> scanned = mime::parse_structure(
      [&message](std::span<char> out) { return message.read(out); }, config_.part_limits);
  if (!scanned.is_ok()) {
    return scanned.status();
  }
  auto parts = std::make_shared<const std::vector<mime::PartInfo>>(std::move(*scanned));
  if (size_t octets = approximate_octets(*parts); octets <= kMaxCachedStructureOctets) {
    structure_cache_ = CachedStructure{index, parts, octets};
  }
  return PartList(std::move(parts));
}

}  // namespace poplar::pop3
