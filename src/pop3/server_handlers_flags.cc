// POP4 FLAGS handlers (POP4.md "Flag commands"; docs/pop4.md): FLGS and FLAG on the selected
// folder. FLAG only records the new flag sets (OpenFolder::flag_changes); run_update() hands
// them to the store's commit_update() after QUIT, and RSET forgets them. Valid only in
// TRANSACTION with the FLAGS ability on (command_table.cc).
//
// Must never: change a stored flag before QUIT, or change anything when a command fails.
// Thread-safety: not thread-safe; part of SessionCore.
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {

void SessionCore::handle_flgs(const ParsedCommand&) { reply_err("FLGS is not built yet."); }
void SessionCore::handle_flag(const ParsedCommand&) { reply_err("FLAG is not built yet."); }

}  // namespace poplar::pop3
