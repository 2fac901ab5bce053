# SPDX-License-Identifier: GPL-2.0
# Where the time under a kernel function goes, from `perf script -F
# comm,ip,sym` of a `perf record -a -g` run: of the samples whose stack
# holds ROOT (awk -v root=...), the share of those that also hold each
# function (inclusive), largest first; functions under 2% are left out.
/^[^ \t]/ { if (n) sample(); n = 0; next }
NF >= 2 { st[n++] = $2; next }
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
