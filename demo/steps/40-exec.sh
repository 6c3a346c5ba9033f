# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's Hello World: first as it was shown (bpf_printk read from trace_pipe), then as
# an exec tracer that shows each command run in the lab with its arguments and result.
exec_wait() { # file pattern: until the tracer says it is attached (at most 5 s)
  for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
}
step "exec: the talk's Hello World, then every exec with its arguments and result"
say "bpf_printk(\"Hello, exec!\") on sys_enter_execve, read from trace_pipe"
cmd bpflab hello --printk --duration 1.5
"$BPFLAB" hello --printk --duration 1.5 > "/tmp/$LAB-printk.txt" 2> "/tmp/$LAB-printk.err" &
exec_wait "/tmp/$LAB-printk.err" trace_pipe
in_node client true
wait
grep -m 2 'Hello, exec!' "/tmp/$LAB-printk.txt" | sed 's/^ */     /'
say "every exec inside the client node (a ping, a route lookup, a program that does not"
say "exist); the rest of the machine is filtered out in BPF"
cmd bpflab --netns "$LAB-client" exec --duration 2.5
"$BPFLAB" --netns "$LAB-client" exec --duration 2.5 > "/tmp/$LAB-exec.txt" 2> /dev/null &
exec_wait "/tmp/$LAB-exec.txt" ARGS
# absolute paths: execvp would otherwise show its PATH search as failed execs
in_node client "$(command -v ping)" -c 1 -q 198.18.0.11 > /dev/null
in_node client "$(command -v ip)" route get 198.18.0.11 > /dev/null
in_node client /usr/local/bin/no-such-tool --serve 198.18.0.11 2> /dev/null || true
wait
sed 's/^/     /' "/tmp/$LAB-exec.txt"
rm -f "/tmp/$LAB-printk.txt" "/tmp/$LAB-printk.err" "/tmp/$LAB-exec.txt"
