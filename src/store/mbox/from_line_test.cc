// Tests of the mbox From_ line and of the envelope sender taken from Return-Path.
// Must never: depend on the local time zone or locale. Single-threaded.
#include "store/mbox/from_line.h"

#include <gtest/gtest.h>

namespace poplar::store::mbox {
namespace {

TEST(FromLineTest, IsAsctimeInUtc) {
  // 2026-11-27T12:00:00Z
  EXPECT_EQ(from_line("alice@example.org", 1795780800),
            "From alice@example.org Fri Nov 27 12:00:00 2026\n");
  // Single-digit days are padded with a space, as asctime does.
  EXPECT_EQ(from_line("MAILER-DAEMON", 1772409845),
            "From MAILER-DAEMON Mon Mar  2 00:04:05 2026\n");
  EXPECT_EQ(from_line("x", 0), "From x Thu Jan  1 00:00:00 1970\n");
}

TEST(FromLineTest, ClampsDatesAsctimeCannotWrite) {
  EXPECT_EQ(from_line("x", -5), "From x Thu Jan  1 00:00:00 1970\n");
  EXPECT_EQ(from_line("x", INT64_MAX), "From x Fri Dec 31 23:59:59 9999\n");
}

TEST(FromLineTest, WritableSendersHaveNoSpacesOrControls) {
  EXPECT_TRUE(is_writable_sender("a@b"));
  EXPECT_TRUE(is_writable_sender(std::string(256, 'a')));
  EXPECT_FALSE(is_writable_sender(std::string(257, 'a')));
  EXPECT_FALSE(is_writable_sender(""));
  EXPECT_FALSE(is_writable_sender("a b@c"));
  EXPECT_FALSE(is_writable_sender("a\n@c"));
  EXPECT_FALSE(is_writable_sender("\xc3\xa9@c"));
}

TEST(SenderFromHeaderTest, TakesTheFirstReturnPath) {
  EXPECT_EQ(sender_from_header("Return-Path: <bob@example.org>\nFrom: x\n\nbody\n"),
            "bob@example.org");
  EXPECT_EQ(sender_from_header("From: x\nreturn-path:   carol@example.org  \n\n"),
            "carol@example.org");
  EXPECT_EQ(sender_from_header("Return-Path: <a@x>\nReturn-Path: <b@x>\n\n"), "a@x");
  // Folded.
  EXPECT_EQ(sender_from_header("Return-Path:\n <dave@example.org>\nTo: y\n\n"), "dave@example.org");
  // Only the header block counts, and it may be cut anywhere.
  EXPECT_EQ(sender_from_header("Subject: s\n\nReturn-Path: <body@x>\n"), "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("Return-Path: <cut@exa"), "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("Return-Path: <cut@example.org>"), "cut@example.org");
}

TEST(SenderFromHeaderTest, FallsBackToMailerDaemon) {
  EXPECT_EQ(sender_from_header(""), "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("\nReturn-Path: <a@x>\n"), "MAILER-DAEMON");  // empty header
  EXPECT_EQ(sender_from_header("From: a\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("Return-Path: <>\n\n"), "MAILER-DAEMON");  // the null path
  EXPECT_EQ(sender_from_header("Return-Path: <a b@x>\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("Return-Path: <" + std::string(300, 'a') + ">\n\n"),
            "MAILER-DAEMON");
  EXPECT_EQ(sender_from_header("Return-Path-X: <a@x>\n\n"), "MAILER-DAEMON");
}

}  // namespace
}  // namespace poplar::store::mbox
