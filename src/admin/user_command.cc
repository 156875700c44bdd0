#include "admin/user_command.h"

#include <memory>
#include <string_view>

#include "admin/exit_codes.h"
#include "auth/password_scheme.h"
#include "base/secret.h"

namespace poplar::admin {
namespace {

int usage_error(CommandIo& io, std::string_view command, std::string_view message) {
  io.err << "poplar " << command << ": " << message << '\n';
  return kExitUsage;
}

// Checks what can be checked before a password is asked for: a typo in the name or scheme
// should not cost the admin two password prompts.
int check_name_and_scheme(CommandIo& io, std::string_view command, std::string_view name,
                          std::string_view scheme) {
  if (Status s = validate_user_name(name); !s) {
    return usage_error(io, command, s.message());
  }
  if (!auth::is_supported_scheme(scheme)) {
    return usage_error(io, command,
                       "unknown password scheme " + std::string(scheme) +
                           " (`poplar hash --list` shows the supported ones)");
  }
  return kExitOk;
}

void throw_on_failure(int code) {
  if (code != kExitOk) {
    throw CLI::RuntimeError(code);
  }
}

void add_file_option(CLI::App* command, std::string& file) {
  command->add_option("-f,--file", file, "The passwd-file")->capture_default_str();
}

void add_scheme_option(CLI::App* command, std::string& scheme) {
  command
      ->add_option("-s,--scheme", scheme,
                   "Password scheme for the new hash (`poplar hash --list` shows them)")
      ->capture_default_str();
}

}  // namespace

int run_user_add(const UserAddOptions& options, CommandIo& io) {
  constexpr std::string_view kCommand = "user add";
  if (int rc = check_name_and_scheme(io, kCommand, options.name, options.scheme); rc != kExitOk) {
    return rc;
  }
  auth::UserRecord record{options.name, options.uid, options.gid, options.home, options.mail};
  if (Result<std::string> probe = format_passwd_line(record, "{PLAIN}x"); !probe) {
    return usage_error(io, kCommand, probe.status().message());
  }
  Result<bool> exists = user_exists(options.file, options.name);
  if (exists && *exists) {
    return report_failure(
        io, kCommand,
        Status::invalid_input("user " + options.name + " already exists in " + options.file));
  }
  if (!exists && exists.status().code() != ErrorCode::kUnavailable) {
    return report_failure(io, kCommand, exists.status());  // a missing file is created below
  }
  Result<std::string> hash = read_and_hash_password(options.scheme, io);
  if (!hash) {
    return report_failure(io, kCommand, hash.status());
  }
  Status added = add_user(options.file, record, *hash);
  secure_wipe(hash->data(), hash->size());
  if (!added) {
    return report_failure(io, kCommand, added);
  }
  io.out << "user " << options.name << " added to " << options.file << '\n';
  return kExitOk;
}

int run_user_passwd(const UserPasswdOptions& options, CommandIo& io) {
  constexpr std::string_view kCommand = "user passwd";
  if (int rc = check_name_and_scheme(io, kCommand, options.name, options.scheme); rc != kExitOk) {
    return rc;
  }
  Result<bool> exists = user_exists(options.file, options.name);
  if (!exists) {
    return report_failure(io, kCommand, exists.status());
  }
  if (!*exists) {
    return report_failure(
        io, kCommand,
        Status::not_found("user " + options.name + " does not exist in " + options.file));
  }
  Result<std::string> hash = read_and_hash_password(options.scheme, io);
  if (!hash) {
    return report_failure(io, kCommand, hash.status());
  }
  Status changed = set_password(options.file, options.name, *hash);
  secure_wipe(hash->data(), hash->size());
  if (!changed) {
    return report_failure(io, kCommand, changed);
  }
  io.out << "password of user " << options.name << " changed in " << options.file << '\n';
  return kExitOk;
}

int run_user_del(const UserDelOptions& options, CommandIo& io) {
  constexpr std::string_view kCommand = "user del";
  if (Status s = validate_user_name(options.name); !s) {
    return usage_error(io, kCommand, s.message());
  }
  if (Status s = delete_user(options.file, options.name); !s) {
    return report_failure(io, kCommand, s);
  }
  io.out << "user " << options.name << " deleted from " << options.file << '\n';
  return kExitOk;
}

int run_user_list(const UserListOptions& options, CommandIo& io) {
  constexpr std::string_view kCommand = "user list";
  Result<UserList> list = list_users(options.file);
  if (!list) {
    return report_failure(io, kCommand, list.status());
  }
  for (const std::string& warning : list->warnings) {
    io.err << "poplar " << kCommand << ": warning: skipped " << warning << '\n';
  }
  for (const std::string& name : list->names) {
    io.out << name << '\n';
  }
  return kExitOk;
}

void add_user_commands(CLI::App& app) { add_user_commands(app, default_command_io()); }

void add_user_commands(CLI::App& app, const CommandIo& io_in) {
  auto io = std::make_shared<CommandIo>(io_in);
  CLI::App* user = app.add_subcommand("user", "Manage users in the passwd-file");
  user->require_subcommand(1);

  auto add_options = std::make_shared<UserAddOptions>();
  CLI::App* add = user->add_subcommand(
      "add", "Add a user; the password is asked on the terminal, or read from stdin's first line");
  add->add_option("name", add_options->name, "User name")->required();
  add_file_option(add, add_options->file);
  add_scheme_option(add, add_options->scheme);
  add->add_option("--uid", add_options->uid, "System uid for the user's mail files");
  add->add_option("--gid", add_options->gid, "System gid for the user's mail files");
  add->add_option("--home", add_options->home, "Home directory (%h in the mail location)");
  add->add_option("--mail", add_options->mail,
                  "Mail location for this user, e.g. maildir:~/Maildir (default: the server's)");
  add->callback([add_options, io] { throw_on_failure(run_user_add(*add_options, *io)); });

  auto passwd_options = std::make_shared<UserPasswdOptions>();
  CLI::App* passwd = user->add_subcommand("passwd", "Change a user's password");
  passwd->add_option("name", passwd_options->name, "User name")->required();
  add_file_option(passwd, passwd_options->file);
  add_scheme_option(passwd, passwd_options->scheme);
  passwd->callback(
      [passwd_options, io] { throw_on_failure(run_user_passwd(*passwd_options, *io)); });

  auto del_options = std::make_shared<UserDelOptions>();
  CLI::App* del = user->add_subcommand("del", "Delete a user (the mail stays on disk)");
  del->add_option("name", del_options->name, "User name")->required();
  add_file_option(del, del_options->file);
  del->callback([del_options, io] { throw_on_failure(run_user_del(*del_options, *io)); });

  auto list_options = std::make_shared<UserListOptions>();
  CLI::App* list = user->add_subcommand("list", "List the user names (never the passwords)");
  add_file_option(list, list_options->file);
  list->callback([list_options, io] { throw_on_failure(run_user_list(*list_options, *io)); });
}

}  // namespace poplar::admin
