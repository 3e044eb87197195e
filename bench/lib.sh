# bench/lib.sh — shared by the benchmark scripts (sourced after $dir and
# $runs are set). Needs GNU time.
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }

best() { # best wall seconds of $runs runs of "$@"; sets BEST and RSS_KB (peak)
	BEST=; RSS_KB=0
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f '%e %M' -o "$dir/time.out" "$@" >/dev/null
		read -r t m < "$dir/time.out"
		if [ -z "$BEST" ] || awk "BEGIN{exit !($t < $BEST)}"; then BEST=$t; fi
		[ "$m" -gt "$RSS_KB" ] && RSS_KB=$m
		i=$((i + 1))
	done
}

median() { # median wall and CPU (user + sys) seconds of $runs runs of "$@"; sets MEDIAN, MEDIAN_CPU and RSS_KB (peak)
	RSS_KB=0
	: > "$dir/times"
	: > "$dir/cpus"
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f '%e %U %S %M' -o "$dir/time.out" "$@" >/dev/null
		read -r t u s m < "$dir/time.out"
		echo "$t" >> "$dir/times"
		awk "BEGIN{print $u + $s}" >> "$dir/cpus"
		[ "$m" -gt "$RSS_KB" ] && RSS_KB=$m
		i=$((i + 1))
	done
	MEDIAN=$(median_of "$dir/times")
	MEDIAN_CPU=$(median_of "$dir/cpus")
}

median_of() { # FILE: the median of its numbers, one a line
	sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
