# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's last step, "let's make the verifier unhappy": one program from the gallery
# (examples/verifier), rejected, and bpflab verify saying where, why and how to fix it.
step "verify: make the verifier unhappy, and understand why"
case $OUT in /*) vout=$OUT ;; *) vout=$PWD/$OUT ;; esac
vobj="$vout/examples/verifier/null_check_broken.bpf.o"
make -s -C examples/verifier OUT="$vout" "$vobj" "${vobj%_broken.bpf.o}_fixed.bpf.o"
vobj=${vobj#"$PWD"/} # shown as a user in the checkout types it
say "null_check_broken.bpf.c uses a map lookup result without checking it for NULL"
show "$BPFLAB" verify "$vobj" || true
say "its twin checks first, and loads:"
show "$BPFLAB" verify "${vobj%_broken.bpf.o}_fixed.bpf.o"
