// Tests of the default fetch state location and its file-name encoding.
#include "fetch/state_path.h"

#include <gtest/gtest.h>

#include <map>

namespace poplar::fetch {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

PopUrl url_of(std::string_view text) {
  auto url = parse_pop_url(text);
  EXPECT_TRUE(url.is_ok()) << url.status().to_string();
  return url.is_ok() ? *url : PopUrl{};
}

TEST(StatePathTest, UsesXdgStateHome) {
  auto path = default_state_path(url_of("pops://bob@mail.example.org"),
                                 fake_env({{"XDG_STATE_HOME", "/x/state/"}, {"HOME", "/home/b"}}));
  ASSERT_TRUE(path.is_ok());
  EXPECT_EQ(*path, "/x/state/poplar/fetch/pops%3A%2F%2Fbob@mail.example.org.state");
}

TEST(StatePathTest, FallsBackToHomeWhenXdgIsUnsetEmptyOrRelative) {
  PopUrl url = url_of("pop://fred%40example.com;AUTH=+APOP@[::1]:1100");
  const std::string expected =
      "/home/b/.local/state/poplar/fetch/"
      "pop%3A%2F%2Ffred%2540example.com%3BAUTH%3D%2BAPOP@%5B%3A%3A1%5D%3A1100.state";
  for (auto env :
       {fake_env({{"HOME", "/home/b"}}), fake_env({{"XDG_STATE_HOME", ""}, {"HOME", "/home/b"}}),
        fake_env({{"XDG_STATE_HOME", "rel/dir"}, {"HOME", "/home/b"}})}) {
    auto path = default_state_path(url, env);
    ASSERT_TRUE(path.is_ok()) << path.status().to_string();
    EXPECT_EQ(*path, expected);
  }
}

TEST(StatePathTest, RefusesWithoutAnAbsoluteHome) {
  auto path = default_state_path(url_of("pop://u@h"), fake_env({{"HOME", "relative"}}));
  ASSERT_FALSE(path.is_ok());
  EXPECT_NE(path.status().message().find("--state"), std::string::npos);
  EXPECT_FALSE(default_state_path(url_of("pop://u@h"), fake_env({})).is_ok());
}

TEST(StatePathTest, DistinctUrlsGiveDistinctNames) {
  EXPECT_NE(state_file_name("pop://a%2Fb@h"), state_file_name("pop://a/b@h"));
  EXPECT_EQ(state_file_name("a.b_c-d@E9"), "a.b_c-d@E9");
}

TEST(StatePathTest, TooLongANameIsRefused) {
  PopUrl url = url_of("pop://u@h");
  url.user = std::string(200, '/');
  auto path = default_state_path(url, fake_env({{"HOME", "/h"}}));
  ASSERT_FALSE(path.is_ok());
  EXPECT_NE(path.status().message().find("too long"), std::string::npos);
}

TEST(StatePathTest, AccountFileFollowsXdgConfigHome) {
  EXPECT_EQ(*default_account_file(fake_env({{"XDG_CONFIG_HOME", "/cfg/"}, {"HOME", "/home/a"}})),
            "/cfg/poplar/fetch.toml");
  EXPECT_EQ(*default_account_file(fake_env({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/home/a"}})),
            "/home/a/.config/poplar/fetch.toml");
  auto none = default_account_file(fake_env({}));
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("-c"), std::string::npos);
}

TEST(StatePathTest, InboxKeepsTheUrlsOwnKeyAndFile) {
  const PopUrl url = url_of("pops://bob@mail.example.org");
  const auto env = fake_env({{"HOME", "/home/b"}});
  for (std::string_view inbox : {"", "INBOX", "inbox"}) {
    EXPECT_EQ(fetch_state_key(url, inbox), "pops://bob@mail.example.org");
    auto path = default_state_path(url, inbox, env);
    ASSERT_TRUE(path.is_ok());
    EXPECT_EQ(*path, *default_state_path(url, env));
  }
}

TEST(StatePathTest, EachFolderHasItsOwnKeyAndFile) {
  const PopUrl url = url_of("pops://bob@mail.example.org");
  const auto env = fake_env({{"HOME", "/home/b"}});
  EXPECT_EQ(fetch_state_key(url, "Archive"), "pops://bob@mail.example.org/Archive");
  EXPECT_EQ(fetch_state_key(url, "Sent Items"), "pops://bob@mail.example.org/Sent%20Items");
  EXPECT_EQ(fetch_state_key(url, "Lists/a%b"), "pops://bob@mail.example.org/Lists/a%25b");
  auto archive = default_state_path(url, "Archive", env);
  ASSERT_TRUE(archive.is_ok());
  EXPECT_EQ(*archive,
            "/home/b/.local/state/poplar/fetch/pops%3A%2F%2Fbob@mail.example.org%2FArchive.state");
  EXPECT_NE(*default_state_path(url, "archive", env), *archive);  // only INBOX ignores case
  EXPECT_NE(*default_state_path(url, "Sent Items", env),
            *default_state_path(url, "Sent_Items", env));
}

}  // namespace
}  // namespace poplar::fetch
