package io.sparkvision.train.sizing;

import io.sparkvision.config.Launcher;
import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;

import static io.sparkvision.train.sizing.RoundSizing.bytes;

/**
 * Local mode: the driver JVM is the whole Spark application, so what bounds a run is the machine, not the flags the
 * JVM happened to start with. A run that does not fit this JVM's heap/off-heap split but fits the machine asks
 * scripts/sparkvision to start it again with a split made for it (once, before any Spark job); a run the machine
 * cannot hold is refused with the cheapest change of the job that fits, computed for this machine.
 */
final class LocalMachine {
    private static final long HEAP_STEP = 256L << 20;

    private LocalMachine() {
    }

    /** What re-sizes the same run with one of its keys changed. */
    record Resizer(Model net, InputShape shape, RoundSizing.Setup setup) {
        RoundSizing size(RoundSizing.Setup changed, boolean withUpdaterState) {
            return RoundSizing.of(net, shape, changed, withUpdaterState);
        }
    }

    /** A change of the job's keys and the run it gives. */
    record Change(String keys, RoundSizing sizing) {
    }

    static SizingCheck.Verdict check(SizingCheck.Verdict v, RoundSizing s, Launcher launcher, Resizer r, PrintStream out) {
        if (v.fits()) return v;
        boolean memoryOnly = v.problems().stream().allMatch(p -> p.startsWith("the driver needs"));
        long budget = launcher.memoryBudget();
        if (!memoryOnly) return v;
        Optional<RoundSizing> holdable = holdable(s, r, budget);
        if (holdable.isPresent()) {
            if (!launcher.canRestart()) return v;
            long heap = heapFor(holdable.get());
            long off = budget - heap - Launcher.JVM_OVERHEAD;
            String flags = String.format(Locale.ROOT, "-Xmx%dm -Dorg.bytedeco.javacpp.maxbytes=%dM -Dorg.bytedeco.javacpp.maxphysicalbytes=%dM",
                    heap >> 20, off >> 20, budget >> 20);
            try {
                Files.writeString(Path.of(launcher.resizeFile()), flags, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + launcher.resizeFile(), e);
            }
            throw new Launcher.Restart("sizing: this JVM's split does not fit the run (" + String.join("; ", v.problems())
                    + "), the machine does: starting again with " + flags);
        }
        List<String> problems = new ArrayList<>(v.problems());
        problems.add("this machine gives one JVM at most " + bytes(budget) + " and the run needs ~" + bytes(needs(s))
                + " (heap + ND4J + " + bytes(Launcher.JVM_OVERHEAD) + " for the JVM itself)");
        List<String> fixes = new ArrayList<>();
        Optional<Change> cheapest = cheapestChange(s, r, budget);
        if (cheapest.isPresent()) {
            fixes.add(cheapest.get().keys() + " (needs ~" + bytes(needs(cheapest.get().sizing())) + ")");
        } else {
            fixes.add("a machine with more memory: even one worker at batch 1 with train.updater = sgd and evaluation batch 1 needs more than " + bytes(budget));
        }
        return new SizingCheck.Verdict(problems, fixes, 0);
    }

    /**
     * The run as asked if the machine holds it, else with the largest driver-side evaluation batch that it holds (the
     * train job's sizing step picks that batch itself once the JVM has the split).
     */
    static Optional<RoundSizing> holdable(RoundSizing s, Resizer r, long budget) {
        return holdable(s, r, budget, true);
    }

    static Optional<RoundSizing> holdable(RoundSizing s, Resizer r, long budget, boolean withUpdaterState) {
        if (fits(s, budget)) return Optional.of(s);
        for (int e = r.setup().evalBatch() / 2; e >= 1; e /= 2) {
            RoundSizing smaller = r.size(withEvalBatch(r.setup(), e), withUpdaterState);
            if (fits(smaller, budget)) return Optional.of(smaller);
        }
        return Optional.empty();
    }

    static RoundSizing.Setup withEvalBatch(RoundSizing.Setup x, int evalBatch) {
        return setup(x, x.workers(), x.batch(), evalBatch, x.averageUpdater());
    }

    /** Heap with a quarter's headroom for the collector, in 256 MiB steps, at least 512 MiB. */
    static long heapFor(RoundSizing s) {
        long h = s.driverHeap() + s.driverHeap() / 4;
        return Math.max(512L << 20, (h + HEAP_STEP - 1) / HEAP_STEP * HEAP_STEP);
    }

    static long needs(RoundSizing s) {
        return heapFor(s) + s.driverOffHeap() + Launcher.JVM_OVERHEAD;
    }

    static boolean fits(RoundSizing s, long budget) {
        return needs(s) <= budget;
    }

    /**
     * The first of these that fits, cheapest first: the updater state not averaged, fewer workers (the most that fit),
     * a smaller batch (the largest that fits), a stateless updater; then all of them together. Each counts with the
     * smaller evaluation batch the sizing step would pick itself ({@link #holdable}).
     */
    static Optional<Change> cheapestChange(RoundSizing s, Resizer r, long budget) {
        RoundSizing.Setup base = r.setup();
        boolean stateful = s.updaterState() > 0;
        boolean pa = RoundSizing.PARAMETER_AVERAGING.equals(s.master());
        List<Map.Entry<String, RoundSizing.Setup>> tried = new ArrayList<>();
        if (pa && stateful && base.averageUpdater()) {
            tried.add(Map.entry("--set train.average-updater=false", setup(base, base.workers(), base.batch(), base.evalBatch(), false)));
        }
        for (int k = base.workers() - 1; k >= 1; k--) {
            tried.add(Map.entry("--set train.workers=" + k, setup(base, k, base.batch(), base.evalBatch(), base.averageUpdater())));
        }
        for (int b = base.batch() / 2; b >= 1; b /= 2) {
            tried.add(Map.entry("--set train.batch-size-per-worker=" + b, setup(base, base.workers(), b, base.evalBatch(), base.averageUpdater())));
        }
        for (Map.Entry<String, RoundSizing.Setup> c : tried) {
            Optional<RoundSizing> held = holdable(r.size(c.getValue(), true), new Resizer(r.net(), r.shape(), c.getValue()), budget, true);
            if (held.isPresent()) return Optional.of(new Change(c.getKey(), held.get()));
        }
        if (stateful) {
            Optional<RoundSizing> held = holdable(r.size(base, false), r, budget, false);
            if (held.isPresent()) return Optional.of(new Change("--set train.updater=sgd", held.get()));
        }
        for (int b = base.batch(); b >= 1; b /= 2) {
            RoundSizing.Setup all = setup(base, 1, b, base.evalBatch(), false);
            Optional<RoundSizing> held = holdable(r.size(all, false), new Resizer(r.net(), r.shape(), all), budget, false);
            if (held.isPresent()) {
                return Optional.of(new Change("--set train.workers=1 --set train.batch-size-per-worker=" + b
                        + (stateful ? " --set train.updater=sgd" : ""), held.get()));
            }
        }
        return Optional.empty();
    }

    private static RoundSizing.Setup setup(RoundSizing.Setup x, int workers, int batch, int evalBatch, boolean averageUpdater) {
        return new RoundSizing.Setup(x.master(), workers, x.executors(), batch, evalBatch, x.trainExamples(), x.inputValues(),
                x.aggregationDepth(), averageUpdater, x.gpu());
    }
}
