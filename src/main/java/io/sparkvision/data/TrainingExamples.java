package io.sparkvision.data;

import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * A training task's examples from its cached images: the crop of the model's input size (random, or random-resized),
 * augmentation and normalisation, in the task's order. With one thread (the default) each example is prepared when
 * it is asked for; with {@code threads > 1} the next {@code threads x READ_AHEAD} images are prepared at once by a
 * pool of that many threads while the task hands out the chunk before, so that one task can feed a GPU faster than
 * one core prepares (about 1,300 ResNet-recipe
 * examples per core-second here, docs/input-pipeline.md). Example i draws from its own generator, seeded by the
 * worker's seed and i alone, so the examples are the same whatever the thread count.
 */
public final class TrainingExamples {
    /** Images each pool thread prepares per read-ahead: enough to amortise the hand-over, small in memory. */
    static final int READ_AHEAD = 8;

    /** One pool per thread count and executor JVM, daemon threads, shared by its tasks (tasks run one after another per core). */
    private static final ConcurrentHashMap<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();

    private TrainingExamples() {
    }

    /** The examples of {@code images} in order; {@code threads} pool threads prepare them when above 1. */
    public static Iterator<Example> of(Iterator<CachedImage> images, long workerSeed, PixelAugmentation aug, InputShape in,
                                       double[] mean, double[] std, int threads) {
        if (threads < 1) throw new IllegalArgumentException("train.input-threads must be at least 1, was " + threads);
        return threads == 1 ? oneByOne(images, workerSeed, aug, in, mean, std)
                : new ReadAhead(images, workerSeed, aug, in, mean, std, POOLS.computeIfAbsent(threads, ForkJoinPool::new), threads * READ_AHEAD);
    }

    /** Example i of a worker's share: its own generator, so the result does not depend on batching or threads. */
    static Example prepare(CachedImage img, long i, long workerSeed, PixelAugmentation aug, InputShape in, double[] mean, double[] std) {
        Random rnd = new Random(workerSeed * 31L + i);
        float[] px = aug.train(img.pixels(), img.height(), img.width(), in, rnd);
        ImagePreparer.normaliseInPlace(px, in.channels(), in.height() * in.width(), mean, std);
        return new Example(px, img.label());
    }

    private static Iterator<Example> oneByOne(Iterator<CachedImage> it, long workerSeed, PixelAugmentation aug, InputShape in,
                                              double[] mean, double[] std) {
        return new Iterator<>() {
            private long i;

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Example next() {
                return prepare(it.next(), i++, workerSeed, aug, in, mean, std);
            }
        };
    }

    /**
     * Reads {@code ahead} images from the cache and prepares them in parallel on the pool while the task hands out the
     * previous chunk (double-buffered: assembling minibatches on the task thread overlaps the next chunk's preparation).
     */
    private static final class ReadAhead implements Iterator<Example> {
        private final Iterator<CachedImage> it;
        private final long workerSeed;
        private final PixelAugmentation aug;
        private final InputShape in;
        private final double[] mean, std;
        private final ForkJoinPool pool;
        private final int ahead;
        private Example[] ready = new Example[0];
        private int next;
        private long index;
        private Chunk pending;

        /** A chunk being prepared: its slots and the pool's futures. */
        private record Chunk(Example[] out, List<Future<Void>> jobs) {
        }

        ReadAhead(Iterator<CachedImage> it, long workerSeed, PixelAugmentation aug, InputShape in, double[] mean, double[] std,
                  ForkJoinPool pool, int ahead) {
            this.it = it;
            this.workerSeed = workerSeed;
            this.aug = aug;
            this.in = in;
            this.mean = mean;
            this.std = std;
            this.pool = pool;
            this.ahead = ahead;
        }

        @Override
        public boolean hasNext() {
            return next < ready.length || pending != null || it.hasNext();
        }

        @Override
        public Example next() {
            if (next == ready.length) {
                if (pending == null) pending = submit();
                if (pending == null) throw new NoSuchElementException();
                ready = await(pending);
                next = 0;
                pending = submit(); // the next chunk is prepared while this one is handed out
            }
            return ready[next++];
        }

        /** Reads the next chunk's images (on the task's thread: the cache iterator is Spark's) and queues their preparation. */
        private Chunk submit() {
            List<CachedImage> images = new ArrayList<>(ahead);
            while (images.size() < ahead && it.hasNext()) images.add(it.next());
            if (images.isEmpty()) return null;
            Example[] out = new Example[images.size()];
            List<Future<Void>> jobs = new ArrayList<>(out.length);
            long first = index;
            index += out.length;
            for (int k = 0; k < out.length; k++) {
                int slot = k;
                jobs.add(pool.submit(() -> {
                    out[slot] = prepare(images.get(slot), first + slot, workerSeed, aug, in, mean, std);
                    return null;
                }));
            }
            return new Chunk(out, jobs);
        }

        private static Example[] await(Chunk c) {
            try {
                for (Future<Void> f : c.jobs()) f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while preparing minibatch examples", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
            return c.out();
        }
    }
}
