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

interleaved() { # ROUNDS CMD...: each CMD a string run by sh -c "exec CMD", in turn (A B A B ...) ROUNDS times, so a shared machine moves all alike; sets BEST_i, MEDIAN_i (wall seconds), CPU_i (median user + sys) and RSS_i (peak KB over the rounds) for i = 1..number of commands
	_rounds=$1; shift
	_n=$#
	_k=1
	while [ $_k -le $_n ]; do : > "$dir/times.$_k"; : > "$dir/cpus.$_k"; eval "RSS_$_k=0"; _k=$((_k + 1)); done
	_r=0
	while [ $_r -lt "$_rounds" ]; do
		_k=1
		for _cmd in "$@"; do
			/usr/bin/time -f '%e %U %S %M' -o "$dir/time.out" sh -c "exec $_cmd" >/dev/null
			read -r t u s m < "$dir/time.out"
			echo "$t" >> "$dir/times.$_k"
			awk "BEGIN{print $u + $s}" >> "$dir/cpus.$_k"
			eval "_peak=\$RSS_$_k"
			if [ "$m" -gt "$_peak" ]; then eval "RSS_$_k=\$m"; fi
			_k=$((_k + 1))
		done
		_r=$((_r + 1))
	done
	_k=1
	while [ $_k -le $_n ]; do
		eval "MEDIAN_$_k=\$(median_of \"\$dir/times.\$_k\")"
		eval "CPU_$_k=\$(median_of \"\$dir/cpus.\$_k\")"
		eval "BEST_$_k=\$(sort -n \"\$dir/times.\$_k\" | head -1)"
		_k=$((_k + 1))
	done
}
