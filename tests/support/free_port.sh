# Sourced by the test scripts: free_port prints a TCP port on 127.0.0.1 nothing listens on now
# (20000-39999; a race with another process taking it in between is possible, and harmless for
# the servers the scripts start: they fail loudly).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}
