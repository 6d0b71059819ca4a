#include "providers/common/wrapper.hpp"

namespace sky::providers {

std::string_view node_wrapper_script() {
  // Why traps with a handler: a signal sent to the whole process group
  // (stop, cancel) also reaches this wrapper. Ignoring it would be inherited
  // across exec by the script and its children (they could then not be
  // stopped); a trapped signal is reset to default in children. Bash runs
  // a handler only after the foreground script has ended, so the wrapper is
  // still there to record the script's status (128+N when killed by signal
  // N).
  // Why fd 3: the starter waits for one byte on it, written by the script's
  // own process (a subshell, whose traps are already reset to default)
  // just before it execs the script. A signal sent to the group after
  // start() returned therefore always reaches the script; a signal that
  // came before the script started is recorded as if it had killed it.
  // SIGKILL cannot be trapped: the process is then "lost".
  // Why the start file: see the comment in the script.
  return R"WRAPPER(# skyd node wrapper: runs a task script, then records its end.
# usage: bash wrapper.sh SCRIPT EXIT_FILE
# fd 3 (optional): gets one byte once the script's process exists.
script=$1
exit_file=$2
# Before anything runs, say who we are (pid and start time, /proc field 22)
# beside the exit file: a skyd that died before recording our handle finds
# us by it, and never starts the script a second time.
start_file="${exit_file%.exit}.start"
stat=$(< /proc/$$/stat)
rest=${stat##*) }
set -- $rest
printf '%s %s\n' "$$" "${20}" > "$start_file.tmp.$$" && mv -f -- "$start_file.tmp.$$" "$start_file"
got=
trap 'got=1' HUP
trap 'got=2' INT
trap 'got=3' QUIT
trap 'got=10' USR1
trap 'got=12' USR2
trap 'got=14' ALRM
trap 'got=15' TERM
if [ -z "$got" ]; then
  (
    { printf x >&3; } 2>/dev/null
    exec 3>&-
    exec bash "$script"
  )
  code=$?
else
  code=$((128 + got))
fi
# The script has ended: nothing may interrupt the recording of its end. A
# stop signals every process of the node one by one, the mv below
# included; a killed mv would leave the end unrecorded (read as lost).
# Ignored signals are inherited by mv and rm, which is what is wanted here.
trap '' HUP INT QUIT TERM USR1 USR2 ALRM
exec 3>&-
now=${EPOCHREALTIME:-}
now=${now//[!0-9]/}
if [ ${#now} -gt 3 ]; then
  now=${now:0:${#now}-3}
else
  now=$(date +%s%3N)
fi
tmp="$exit_file.tmp.$$"
printf '%s %s\n' "$code" "$now" > "$tmp" && mv -f -- "$tmp" "$exit_file"
# Each start has its own script file (see local_channel::start).
rm -f -- "$script"
exit "$code"
)WRAPPER";
}

} // namespace sky::providers
