// Cross-check against GMime's own parser: on well-formed messages, every leaf part Poplar lists
// has the type, body offsets and file name that GMime 3 finds (a persistent GMime stream gives
// each leaf body as a substream of the message). Poplar's scan differs from GMime's on purpose
// only where GMime holds data in memory or has no offsets, never on well-formed input.
// Single-threaded.
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mime/mime_structure.h"

namespace poplar::mime {
namespace {

struct Leaf {
  std::string type;
  uint64_t begin, end;
  std::string name;
  bool operator==(const Leaf&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Leaf& l) {
  return os << l.type << " [" << l.begin << "," << l.end << ") '" << l.name << "'";
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

void walk(GMimeObject* object, std::vector<Leaf>* out) {
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      walk(g_mime_multipart_get_part(multipart, i), out);
    }
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (message != nullptr) {
      walk(g_mime_message_get_mime_part(message), out);
    }
  } else if (GMIME_IS_PART(object)) {
    GMimePart* part = GMIME_PART(object);
    GMimeStream* stream = g_mime_data_wrapper_get_stream(g_mime_part_get_content(part));
    char* type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object));
    const char* name = g_mime_part_get_filename(part);
    out->push_back(Leaf{lower(type), static_cast<uint64_t>(stream->bound_start),
                        static_cast<uint64_t>(stream->bound_end), name != nullptr ? name : ""});
    g_free(type);
  }
}

std::vector<Leaf> gmime_leaves(const std::string& message) {
  g_mime_init();
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(message.data(), message.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, TRUE);
  GMimeMessage* parsed = g_mime_parser_construct_message(parser, nullptr);
  std::vector<Leaf> leaves;
  if (parsed != nullptr) {
    walk(g_mime_message_get_mime_part(parsed), &leaves);
    g_object_unref(parsed);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return leaves;
}

std::vector<Leaf> poplar_leaves(const std::string& message) {
  Result<std::vector<PartInfo>> parts = parse_structure(message);
  EXPECT_TRUE(parts.is_ok());
  std::vector<Leaf> leaves;
  if (parts.is_ok()) {
    for (const PartInfo& p : *parts) {
      if (p.type != "message/rfc822") {
        leaves.push_back(Leaf{p.type, p.body.offset, p.body.offset + p.body.length, p.name});
      }
    }
  }
  return leaves;
}

std::string crlf(const std::string& lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

const char* const kWellFormed[] = {
    "Subject: plain\n\nHello\n",
    "Subject: no final newline\n\nHello",
    "Content-Type: multipart/alternative; boundary=\"=_alt\"\n\n"
    "This is a multi-part message in MIME format.\n"
    "--=_alt\nContent-Type: text/plain; charset=us-ascii\n\nplain\n\n"
    "--=_alt\nContent-Type: text/html; charset=us-ascii\n\n<p>html</p>\n--=_alt--\n",
    "Content-Type: multipart/mixed; boundary=outer\n\n"
    "--outer\nContent-Type: multipart/related; boundary=inner\n\n"
    "--inner\nContent-Type: text/html\n\n<img src=cid:x>\n"
    "--inner\nContent-Type: image/gif\nContent-ID: <x>\nContent-Transfer-Encoding: base64\n\n"
    "R0lGODlhAQABAAAAACw=\n--inner--\n"
    "--outer\nContent-Type: application/pdf\n"
    "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\n\nJVBERi0=\n"
    "--outer--\n",
    "Content-Type: multipart/mixed; boundary=m\n\n"
    "--m\n\nsee below\n"
    "--m\nContent-Type: message/rfc822\n\n"
    "From: x@example.org\nSubject: fwd\nContent-Type: multipart/mixed; boundary=n\n\n"
    "--n\nContent-Type: text/plain\n\ninner\n--n\nContent-Type: application/zip; name=a.zip\n\n"
    "UEsDBA==\n--n--\n"
    "--m--\nepilogue\n",
    "Content-Type: multipart/digest; boundary=d\n\n"
    "--d\n\nSubject: one\n\nfirst\n"
    "--d\n\nSubject: two\n\nsecond\n--d--\n",
};

TEST(MimeStructureGmimeTest, LeavesAgreeWithGmimeOnWellFormedMessages) {
  for (const char* sample : kWellFormed) {
    for (const std::string& message : {std::string(sample), crlf(sample)}) {
      SCOPED_TRACE(message);
      std::vector<Leaf> gmime = gmime_leaves(message);
      ASSERT_FALSE(gmime.empty());
      EXPECT_EQ(poplar_leaves(message), gmime);
    }
  }
}

}  // namespace
}  // namespace poplar::mime
