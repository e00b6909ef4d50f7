# Shared by the scripts: project root, a Java 17 runtime, the JVM flags Spark and DL4J need (conf/jvm-flags.properties).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
export SPARKVISION_CACHE="${SPARKVISION_CACHE:-$HOME/.cache/sparkvision}"

# Hadoop 3.3.4 fails on Java 25 (getSubject is not supported): insist on 17.
pick_java() {
  local v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1)
    case "$v" in *'"17.'*) return 0 ;; esac
  fi
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64 /usr/lib/jvm/java-17*; do
    if [ -x "$d/bin/java" ]; then export JAVA_HOME="$d"; return 0; fi
  done
  echo "sparkvision needs Java 17 (Hadoop 3.3.4 does not run on newer JDKs); install openjdk-17-jdk or set JAVA_HOME" >&2
  exit 1
}
pick_java
export PATH="$JAVA_HOME/bin:$PATH"

# The JVM flags, from their one source (see that file for who needs which).
jvm_flags() { sed -n "s/^${1//./\\.}=//p" "$ROOT/conf/jvm-flags.properties"; }
JAVA17_OPENS="$(jvm_flags java17.opens)"
DL4J_FLAGS="$(jvm_flags dl4j.flags)"
G1_FLAGS="$(jvm_flags g1.flags)"

MVN="mvn -B -q"

# The memory a local run's JVM may use, in MiB: SPARKVISION_MEMORY (e.g. 12g, 12000m) when set, else the machine's
# physical memory (or the container's cgroup limit, when lower) less what the OS and page cache need
# (10%, at least 1 GiB). In local mode the driver JVM is the whole Spark application, so it gets the machine.
memory_budget_mb() {
  local v="${SPARKVISION_MEMORY:-}" total limit
  if [ -n "$v" ]; then
    case "$v" in
      *[gG]) echo $(( ${v%[gG]} * 1024 )) ;;
      *[mM]) echo "${v%[mM]}" ;;
      *) echo "SPARKVISION_MEMORY=$v: give a size such as 12g or 12000m" >&2; exit 2 ;;
    esac
    return
  fi
  total=$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024 ))
  limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
  if [ "$limit" != max ] && [ $(( limit / 1048576 )) -lt "$total" ]; then total=$(( limit / 1048576 )); fi
  local reserve=$(( total / 10 )); [ "$reserve" -lt 1024 ] && reserve=1024
  echo $(( total - reserve ))
}

# The local driver JVM's memory flags for a budget in MiB: a third for the Java heap (Spark, results, serialized
# broadcasts), the rest for ND4J's off-heap arrays, and JavaCPP's resident-set limit at the budget so the process
# as a whole stays inside it. The train job sizes its run against these and asks for another split when the job
# needs one (see scripts/sparkvision).
memory_flags() {
  local budget="$1" heap
  heap=$(( budget / 3 )); [ "$heap" -lt 512 ] && heap=512
  echo "-Xmx${heap}m -Dorg.bytedeco.javacpp.maxbytes=$(( budget - heap ))M -Dorg.bytedeco.javacpp.maxphysicalbytes=${budget}M"
}

# Compiles when sources changed; writes target/classpath.txt (the product's jars plus Spark's).
ensure_built() {
  [ -n "${SPARKVISION_SKIP_BUILD:-}" ] && return 0  # tests run the scripts against the build under test
  if [ ! -f "$ROOT/target/classpath.txt" ] || [ ! -d "$ROOT/target/classes" ] || \
     [ -n "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$ROOT/target/classpath.txt" -type f 2>/dev/null | head -1)" ]; then
    echo "building sparkvision (mvn process-classes)..." >&2
    (cd "$ROOT" && $MVN -DskipTests process-classes) >&2
    touch "$ROOT/target/classpath.txt"  # the plugin leaves an unchanged file untouched
  fi
}

# Builds the spark-submit jar (everything but Spark/Hadoop/Scala) when missing or stale.
ensure_app_jar() {
  if [ -n "${SPARKVISION_APP_JAR:-}" ]; then APP_JAR="$SPARKVISION_APP_JAR"; return; fi
  APP_JAR="$(ls "$ROOT"/target/sparkvision-*-app.jar 2>/dev/null | head -1 || true)"
  if [ -z "$APP_JAR" ] || [ -n "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$APP_JAR" -type f 2>/dev/null | head -1)" ]; then
    echo "building the application jar (mvn package)..." >&2
    (cd "$ROOT" && $MVN -DskipTests package) >&2
    APP_JAR="$(ls "$ROOT"/target/sparkvision-*-app.jar | head -1)"
  fi
}
