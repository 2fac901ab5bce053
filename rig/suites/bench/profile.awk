# SPDX-License-Identifier: GPL-2.0
# Where the time under a kernel function goes, from `perf script -F
# comm,ip,sym` of a `perf record -a -g` run: of the samples whose stack
# holds ROOT (awk -v root=...), the share of those that also hold each
# function (inclusive), largest first; functions under 2% are left out.
# With a symbol table before it (awk ... KSYMS perf.txt, KSYMS lines
# "address name" sorted by address, from /proc/kallsyms), kernel
# addresses are named from that table instead of by perf.
FILENAME == ARGV[1] && ARGC > 2 { ka[nk] = $1; kn[nk++] = $2; next }
/^[^ \t]/ { if (n) sample(); n = 0; next }
NF >= 2 { st[n++] = ksym($1, $2); next }
END {
	if (n)
		sample();
	printf("PROF %s %s: %d samples\n", fig, root, tot);
	fflush();
	cmd = "sort -k3 -rn | head -30";
	for (f in c)
		if (c[f] * 50 >= tot)
			printf("PROF %s %5.1f%% %s\n", fig, 100 * c[f] / tot, f) | cmd;
	close(cmd);
}
function sample(i, hit, f, seen) {
	for (i = 0; i < n; i++)
		if (st[i] == root)
			hit = 1;
	if (!hit)
		return;
	tot++;
	for (i = 0; i < n; i++) {
		f = st[i];
		if (!(f in seen)) {
			seen[f] = 1;
			c[f]++;
		}
	}
}

# The symbol at or before kernel address @ip: both are 16 lower-case hex
# digits, so string order is address order. Else what perf said, @sym.
function ksym(ip, sym, lo, hi, mid) {
	if (!nk || length(ip) != 16 || ip !~ /^ffff/ || ip < ka[0])
		return sym;
	lo = 0;
	hi = nk - 1;
	while (lo < hi) {
		mid = int((lo + hi + 1) / 2);
		if (ka[mid] <= ip)
			lo = mid;
		else
			hi = mid - 1;
	}
	return kn[lo];
}
