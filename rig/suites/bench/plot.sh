#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# After `make bench`: plot P2 (munmap cost) and P6 (setup time) against the
# number of mirror ranges from the run's results.log, with gnuplot.
#   plot.sh RESULTS_DIR [HOST_ELAPSED_S]
set -euo pipefail
dir=$(readlink -f "$1")
log=$dir/results.log
[ -f "$log" ] || { echo "bench: no $log" >&2; exit 1; }
# The kernel=/iommu= tags after the id are dropped for the columns below.
tr -d '\r' < "$log" | sed -E 's/ kernel=[a-z]+ iommu=[a-z]+ / /' > "$dir/bench.txt"
# P2 svm N=1000 live 1000 munmap median 1234.000 ns (min ...
awk '$1 == "P2" { sub("N=", "", $3); gsub(/\)/, "");
	print $2, $3, $8, $11, $13 }' "$dir/bench.txt" > "$dir/p2.dat"
# P6 N=1000 setup svm median X ms (min A max B) test_hmm median Y ms (min C max D) ratio R
awk '$1 == "P6" { sub("N=", "", $2); gsub(/\)/, "");
	print $2, $6, $9, $11, $14, $17, $19 }' "$dir/bench.txt" > "$dir/p6.dat"
if [ -n "${2:-}" ]; then
	echo "bench: the VM ran ${2} s by the host's clock (boot included)"
fi
if [ ! -s "$dir/p2.dat" ] && [ ! -s "$dir/p6.dat" ]; then
	echo "bench: no P2/P6 lines, no plot"
	exit 0
fi
if ! command -v gnuplot >/dev/null; then
	echo "bench: gnuplot is not installed (make deps), no plot" >&2
	exit 0
fi
png=$dir/bench-p2-p6.png
gnuplot <<GP
set terminal pngcairo size 1200,500 noenhanced
set output "$png"
set multiplot layout 1,2 title "drm_svm bench: cost vs number of live mirror ranges (median, min-max bars)"
set logscale x
set xlabel "mirror ranges / pages (N)"
set grid
set key top left
set title "P2: munmap() of an unmirrored page"
set ylabel "us per munmap"
set yrange [0:*]
set key bottom right
plot "< grep '^svm ' $dir/p2.dat" using 2:(\$3/1000):(\$4/1000):(\$5/1000) with yerrorlines title "vsvm SVM (drm_svm, 4K ranges)", \
     "< grep '^test_hmm ' $dir/p2.dat" using 2:(\$3/1000):(\$4/1000):(\$5/1000) with yerrorlines title "test_hmm"
set key top left
set title "P6: setting up N 4K mirror ranges"
set ylabel "ms"
set logscale y
set yrange [*:*]
plot "$dir/p6.dat" using 1:2:3:4 with yerrorlines title "vsvm SVM (drm_svm)", \
     "$dir/p6.dat" using 1:5:6:7 with yerrorlines title "test_hmm"
unset multiplot
GP
echo "bench: plot of P2 and P6: $png"
