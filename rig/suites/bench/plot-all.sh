#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# After every run of `make bench`: gather the figure lines of all runs
# (kernel=release|debug x iommu=off|on) into one file and plot them.
#   plot-all.sh OUT_DIR RESULTS_DIR...
# OUT_DIR/bench.txt   every P1-P7 and RT line of the runs, in run order
# OUT_DIR/bench.png   P7 (ours / stock drm_gpusvm), the ratios the goals
#                     are set on, and P6 (setup vs number of ranges), for
#                     each kernel and IOMMU setting
set -euo pipefail
out=$1
shift
mkdir -p "$out"
: > "$out/bench.txt"
for d in "$@"; do
	[ -f "$d/results.log" ] || { echo "bench: no $d/results.log" >&2; continue; }
	tr -d '\r' < "$d/results.log" |
		grep -E '^(P[0-9]+|RT) kernel=[a-z]+ iommu=[a-z]+ ' >> "$out/bench.txt" || true
done
n=$(wc -l < "$out/bench.txt")
echo "bench: $n figure lines of $# runs: $out/bench.txt"
if [ "$n" = 0 ]; then
	# A BENCH_PROFILE run prints PROF lines, not figures.
	[ -n "${BENCH_PROFILE:-}" ] && exit 0
	exit 1
fi

# One row per measurement, one column per kernel/IOMMU setting, each cell
# the ratio a line ends with: "p7" takes the P7 lines (ours / stock),
# "goals" the ratios the goals are judged on (issue 27); P6 is its largest
# N (the lines come in increasing N, the last one stays).
#   P7 kernel=K iommu=I 256MB 4K svm-first-touch ours median ... ratio R
ratio_table() {
	awk -v what="$1" '$NF ~ /^[0-9.]+$/ && $(NF-1) == "ratio" {
		sub("kernel=", "", $2); sub("iommu=", "", $3)
		c = $2 "/iommu-" $3; r = ""
		if (what == "p7") { if ($1 == "P7") r = $5 "-" $6 }
		else if ($1 == "P5") r = "P5-" $5
		else if ($1 == "RT") r = "RT-" $5
		else if ($1 == "P3") r = "P3"
		else if ($1 == "P6") r = "P6"
		else if ($1 == "P4" && $0 ~ /job reads 4K/) r = "P4-p99"
		if (r == "") next
		if (!(c in cs)) { cs[c] = ++nc; cn[nc] = c }
		if (!(r in rs)) { rs[r] = ++nr; rn[nr] = r }
		v[rs[r], cs[c]] = $NF
	} END {
		printf "row"; for (j = 1; j <= nc; j++) printf " %s", cn[j]; print ""
		for (i = 1; i <= nr; i++) {
			printf "%s", rn[i]
			for (j = 1; j <= nc; j++) printf " %s", ((i, j) in v) ? v[i, j] : "NaN"
			print ""
		}
	}' "$out/bench.txt"
}
ratio_table p7 > "$out/p7.dat"
ratio_table goals > "$out/goals.dat"

# P6: N, svm ms, test_hmm ms per setting
#   P6 kernel=K iommu=I N=1000 setup svm median X ms (...) test_hmm median Y ms ...
awk '$1 == "P6" {
	sub("kernel=", "", $2); sub("iommu=", "", $3); sub("N=", "", $4)
	print $2 "/iommu-" $3, $4, $8, $16
}' "$out/bench.txt" > "$out/p6.dat"

if ! command -v gnuplot >/dev/null; then
	echo "bench: gnuplot is not installed (make deps), no plot" >&2
	exit 0
fi
# Lines per table (a header and no row is an empty table), columns + 1.
l7=$(wc -l < "$out/p7.dat") lg=$(wc -l < "$out/goals.dat") l6=$(wc -l < "$out/p6.dat")
ncol=$(head -n 1 "$out/p7.dat" | wc -w)
gcol=$(head -n 1 "$out/goals.dat" | wc -w)
rows=$(( (l7 > 1) + (lg > 1) + (l6 > 0) ))
[ "$rows" -gt 0 ] || { echo "bench: nothing to plot"; exit 0; }
png=$out/bench.png
gnuplot <<GP
set terminal pngcairo size 1600,1200 noenhanced
set output "$png"
set multiplot layout $rows,1 title "make bench: drm_gpusvm with our patches (medians of interleaved repetitions)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set grid y
set key top left
set xtics rotate by -20
set title "P7: ours / stock drm_gpusvm (our optimisations on / off: merge_contiguous, slot_per_entry, fill_holes, vsvm.helper_pfns), lower is better; goal <= 1.0, <= 0.5 for 4K first touch"
set ylabel "ratio"
set yrange [0:*]
if ($l7 > 1) plot for [c=2:$ncol] "$out/p7.dat" using c:xtic(1) title columnhead(c), 1.0 with lines lc rgb "black" notitle, 0.5 with lines dt 2 lc rgb "black" notitle
set title "Ratios the goals are set on: P5 <= 1.2 (SVM vs userptr), RT <= 1.2 (retouch vs first touch), P6 <= 1.5 (vs test_hmm), P4 p99 <= 3, P3 <= 1.5 (vs the memcpy path)"
set logscale y
set yrange [0.1:*]
set ylabel "ratio (log)"
if ($lg > 1) plot for [c=2:$gcol] "$out/goals.dat" using c:xtic(1) title columnhead(c), 1.2 with lines dt 2 lc rgb "black" title "1.2", 1.5 with lines dt 3 lc rgb "black" title "1.5", 3 with lines dt 4 lc rgb "black" title "3"
unset logscale y
set style data linespoints
set xtics norotate
set logscale xy
set xlabel "4K ranges (N)"
set ylabel "ms"
set yrange [*:*]
set title "P6: setting up N 4K mirror ranges, vsvm SVM (solid) and test_hmm (dashed)"
configs = system("cut -d' ' -f1 $out/p6.dat | sort -u | tr '\\n' ' '")
if ($l6 > 0) plot for [c in configs] "< grep '^".c." ' $out/p6.dat" using 2:3 title c." svm" lw 2, \
     for [c in configs] "< grep '^".c." ' $out/p6.dat" using 2:4 title c." test_hmm" dt 2
unset multiplot
GP
echo "bench: plot of P7, the goal ratios and P6: $png"
