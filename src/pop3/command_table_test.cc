// Unit tests for command_table.h: every command is in the table once, valid in the right states.
// Tests only; no I/O.
#include "pop3/command_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace poplar::pop3 {
namespace {

using S = SessionState;

TEST(CommandTableTest, EveryCommandHasOneEntryAndAKeywordThatFindsIt) {
  std::set<Command> seen;
  for (const CommandSpec& spec : command_table()) {
    EXPECT_TRUE(seen.insert(spec.command).second) << spec.keyword;
    EXPECT_EQ(command_from_keyword(spec.keyword), spec.command);
    std::string lower(spec.keyword);
    for (auto& c : lower) {
      if (c >= 'A' && c <= 'Z') {  // "UTF8" has a digit
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    EXPECT_EQ(command_from_keyword(lower), spec.command);
    EXPECT_TRUE(spec.in_authorization != nullptr || spec.in_transaction != nullptr);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(Command::kLastCommand));  // all but kUnknown
}

TEST(CommandTableTest, AuthorizationOnlyCommands) {
  for (Command c : {Command::kUser, Command::kPass, Command::kApop, Command::kAuth, Command::kStls,
                    Command::kUtf8}) {
    EXPECT_NE(handler_for(c, S::kAuthorization), nullptr);
    EXPECT_EQ(handler_for(c, S::kTransaction), nullptr);  // R1939-3-i: USER after login
  }
}

TEST(CommandTableTest, TransactionOnlyCommands) {
  for (Command c : {Command::kStat, Command::kList, Command::kRetr, Command::kDele, Command::kNoop,
                    Command::kRset, Command::kTop,  Command::kUidl, Command::kLast, Command::kXtnd,
                    Command::kPart, Command::kLfld, Command::kSfld, Command::kCfld, Command::kDfld,
                    Command::kRenf, Command::kMovf, Command::kCopy, Command::kMove, Command::kStor,
                    Command::kFlgs, Command::kFlag}) {
    EXPECT_EQ(handler_for(c, S::kAuthorization), nullptr);  // R1939-3-i: RETR before login
    EXPECT_NE(handler_for(c, S::kTransaction), nullptr);
  }
}

TEST(CommandTableTest, CapaAndQuitInBothStatesNothingInUpdate) {
  for (Command c : {Command::kCapa, Command::kQuit, Command::kLang}) {  // LANG: RFC 6856 §3
    EXPECT_NE(handler_for(c, S::kAuthorization), nullptr);
    EXPECT_NE(handler_for(c, S::kTransaction), nullptr);
  }
  // QUIT means different things: no UPDATE before login, UPDATE after (RFC 1939 §6).
  EXPECT_NE(handler_for(Command::kQuit, S::kAuthorization),
            handler_for(Command::kQuit, S::kTransaction));
  for (const CommandSpec& spec : command_table()) {
    EXPECT_EQ(handler_for(spec.command, S::kUpdate), nullptr);
    EXPECT_EQ(handler_for(spec.command, S::kClosed), nullptr);
  }
  EXPECT_EQ(handler_for(Command::kUnknown, S::kAuthorization), nullptr);
}

TEST(CommandTableTest, CapaTagsStartWithTheirKeywordOrAreSasl) {
  for (const CommandSpec& spec : command_table()) {
    if (!spec.capa_tag.empty() && spec.command != Command::kAuth) {
      EXPECT_EQ(spec.capa_tag.substr(0, spec.keyword.size()), spec.keyword);  // RFC 2449 §5
    }
  }
  EXPECT_EQ(command_spec(Command::kAuth).capa_tag, "SASL");
  EXPECT_EQ(command_spec(Command::kUtf8).capa_tag, "UTF8 USER");  // RFC 6856 §2
}

TEST(CommandTableTest, PartExistsOnlyWithThePartsAbility) {
  SessionConfig config;
  EXPECT_FALSE(command_enabled(Command::kPart, config));  // POP4.md: plain POP3 by default
  config.pop4.parts = true;
  EXPECT_TRUE(command_enabled(Command::kPart, config));
  EXPECT_EQ(command_spec(Command::kPart).capa_tag, "");  // announced by the X-POP4 line
}

TEST(CommandTableTest, FolderAndFlagCommandsExistOnlyWithTheirAbility) {
  SessionConfig config;
  config.pop4.parts = true;
  for (Command c : {Command::kLfld, Command::kSfld, Command::kCfld, Command::kDfld, Command::kRenf,
                    Command::kMovf, Command::kCopy, Command::kMove, Command::kStor}) {
    EXPECT_FALSE(command_enabled(c, config));
    config.pop4.folders = true;
    EXPECT_TRUE(command_enabled(c, config));
    config.pop4.folders = false;
    EXPECT_EQ(command_spec(c).capa_tag, "");
  }
  for (Command c : {Command::kFlgs, Command::kFlag}) {
    EXPECT_FALSE(command_enabled(c, config));
    config.pop4.flags = true;
    EXPECT_TRUE(command_enabled(c, config));
    config.pop4.flags = false;
  }
}

TEST(CommandTableTest, Pop3CommandsNeedNoAbility) {
  SessionConfig plain;
  for (const CommandSpec& spec : command_table()) {
    if (spec.needs == nullptr) {
      EXPECT_TRUE(command_enabled(spec.command, plain)) << spec.keyword;
    } else {
      EXPECT_FALSE(command_enabled(spec.command, plain)) << spec.keyword;
    }
  }
  EXPECT_TRUE(command_enabled(Command::kUnknown, plain));
}

}  // namespace
}  // namespace poplar::pop3
