package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

/**
 * Should activations travel in oneDNN's blocked layout, and should the algorithm be chosen? The convolutions of one
 * ResNet training step (stem excluded: forward, backward-data, backward-weights of every body and shortcut conv), on
 * activations in {@code nhwc} (what the product's layers hand over) and in {@code nChw16c} (oneDNN's blocked layout,
 * what a blocked residual block would keep), each with {@code convolution_direct} and {@code convolution_auto}
 * (Winograd where oneDNN offers it: only for the blocked layout in oneDNN 2.5). Weights in whatever layout the
 * primitive wants, and the three weight reorders a training step makes timed beside the convolutions (Winograd's
 * weights are a transform, not only a permutation); activation reorders are not timed: the blocked rows are what
 * activations kept blocked through the network would give, an upper bound for anything that reorders them.
 * The four variants run in turn within each round (primitives and memory created once), so load drifts hit all alike.
 * {@code java -cp ... io.sparkvision.model.onednn.ConvLayoutMicroBench resnet18|resnet50 BATCH INPUT ROUNDS}
 */
public final class ConvLayoutMicroBench {
    private record Variant(String name, memory.format_tag tag, algorithm alg) {
    }

    /**
     * One conv shape's primitives with their memories bound: forward, backward-data, backward-weights, then the three
     * weight reorders a training step makes (DL4J's {@code oihw} weights into the forward's and the backward-data's
     * layouts, the weight gradient back), null where the layouts agree.
     */
    private record Conv(String what, int count, primitive[] prims, IntMemoryMap[] args, String impls) {
    }

    private static final int PASSES = 6;

    public static void main(String[] a) {
        String model = a[0];
        int n = Integer.parseInt(a[1]), input = Integer.parseInt(a[2]), rounds = Integer.parseInt(a[3]);
        Variant[] variants = {
                new Variant("nhwc direct", memory.format_tag.nhwc, algorithm.convolution_direct),
                new Variant("nhwc auto", memory.format_tag.nhwc, algorithm.convolution_auto),
                new Variant("nChw16c direct", memory.format_tag.nChw16c, algorithm.convolution_direct),
                new Variant("nChw16c auto", memory.format_tag.nChw16c, algorithm.convolution_auto)};
        List<long[]> shapes = shapes(model, input);
        List<List<Conv>> convs = new ArrayList<>();
        for (Variant v : variants) {
            List<Conv> list = new ArrayList<>();
            for (long[] s : shapes) list.add(conv(n, s, v));
            convs.add(list);
        }
        double[][] perPass = new double[variants.length][PASSES];
        for (int r = 0; r <= rounds; r++) { // round 0 warms up (JIT kernels, first touch)
            for (int v = 0; v < variants.length; v++) {
                for (Conv c : convs.get(v)) {
                    for (int i = 0; i < PASSES; i++) {
                        if (c.prims()[i] == null) continue;
                        long t0 = System.nanoTime();
                        c.prims()[i].execute(Dnnl.stream(), c.args()[i]);
                        Dnnl.stream()._wait();
                        if (r > 0) perPass[v][i] += c.count() * (System.nanoTime() - t0) / 1e6 / rounds;
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s batch %d input %d, %d rounds, %d conv shapes (stem excluded), ms per step:%n",
                model, n, input, rounds, shapes.size());
        double base = java.util.Arrays.stream(perPass[0]).sum();
        for (int v = 0; v < variants.length; v++) {
            double[] t = perPass[v];
            double total = java.util.Arrays.stream(t).sum();
            System.out.printf(Locale.ROOT, "  %-15s forward %7.1f  backward-data %7.1f  backward-weights %7.1f  weight reorders %6.1f  total %7.1f (%.2fx nhwc direct)%n",
                    variants[v].name(), t[0], t[1], t[2], t[3] + t[4] + t[5], total, base / total);
        }
        for (int v = 0; v < variants.length; v++)
            for (Conv c : convs.get(v)) System.out.printf(Locale.ROOT, "  %-15s %-28s %s%n", variants[v].name(), c.what(), c.impls());
    }

    /** {count, in channels, in size, out channels, kernel, stride, pad} of each distinct body/shortcut conv. */
    static List<long[]> shapes(String model, int input) {
        List<long[]> shapes = new ArrayList<>();
        long h = input / 4; // after the 7x7/2 stem and the 3x3/2 max-pool
        long[] widths = {64, 128, 256, 512};
        long prev = 64;
        if (model.equals("resnet18")) {
            for (int st = 0; st < 4; st++) {
                long w = widths[st];
                if (st == 0) {
                    shapes.add(new long[] {4, w, h, w, 3, 1, 1});
                } else {
                    shapes.add(new long[] {1, prev, h, w, 3, 2, 1});
                    shapes.add(new long[] {1, prev, h, w, 1, 2, 0});
                    h /= 2;
                    shapes.add(new long[] {3, w, h, w, 3, 1, 1});
                }
                prev = w;
            }
        } else if (model.equals("resnet50")) {
            int[] blocks = {3, 4, 6, 3};
            for (int st = 0; st < 4; st++) {
                long w = widths[st], out = 4 * w;
                for (int b = 0; b < blocks[st]; b++) {
                    int s = st > 0 && b == 0 ? 2 : 1;
                    long in = b == 0 ? prev : out;
                    shapes.add(new long[] {1, in, h, w, 1, 1, 0});
                    shapes.add(new long[] {1, w, h, w, 3, s, 1});
                    if (b == 0) shapes.add(new long[] {1, in, h, out, 1, s, 0});
                    if (s == 2) h /= 2;
                    shapes.add(new long[] {1, w, h, out, 1, 1, 0});
                }
                prev = out;
            }
        } else {
            throw new IllegalArgumentException("resnet18 or resnet50, not " + model);
        }
        return shapes;
    }

    private static Conv conv(long n, long[] s, Variant v) {
        var eng = Dnnl.engine();
        long c = s[1], h = s[2], o = s[3], k = s[4], st = s[5], p = s[6];
        long oh = (h + 2 * p - k) / st + 1;
        long[] src = {n, c, h, h}, dst = {n, o, oh, oh}, w = {o, c, k, k}, strides = {st, st}, pads = {p, p};
        long r = Math.max(0, (oh - 1) * st + k - h - p);
        long[] padR = {r, r};
        memory.desc sD = Dnnl.desc(src, v.tag()), dD = Dnnl.desc(dst, v.tag()), wA = Dnnl.any(w);
        var fpd = new convolution_forward.primitive_desc(new convolution_forward.desc(prop_kind.forward_training, v.alg(), sD, wA, dD, strides, pads, padR), eng);
        var bdpd = new convolution_backward_data.primitive_desc(new convolution_backward_data.desc(v.alg(), sD, wA, dD, strides, pads, padR), eng, fpd);
        var bwpd = new convolution_backward_weights.primitive_desc(new convolution_backward_weights.desc(v.alg(), sD, wA, dD, strides, pads, padR), eng, fpd);
        IntMemoryMap f = new IntMemoryMap(), bd = new IntMemoryMap(), bw = new IntMemoryMap();
        memory x = new memory(fpd.src_desc(), eng), y = new memory(fpd.dst_desc(), eng);
        f.put(DNNL_ARG_SRC, x);
        f.put(DNNL_ARG_WEIGHTS, new memory(fpd.weights_desc(), eng));
        f.put(DNNL_ARG_DST, y);
        bd.put(DNNL_ARG_DIFF_DST, new memory(bdpd.diff_dst_desc(), eng));
        bd.put(DNNL_ARG_WEIGHTS, new memory(bdpd.weights_desc(), eng));
        bd.put(DNNL_ARG_DIFF_SRC, new memory(bdpd.diff_src_desc(), eng));
        bw.put(DNNL_ARG_SRC, x);
        bw.put(DNNL_ARG_DIFF_DST, new memory(bwpd.diff_dst_desc(), eng));
        bw.put(DNNL_ARG_DIFF_WEIGHTS, new memory(bwpd.diff_weights_desc(), eng));
        String what = String.format(Locale.ROOT, "x%d %d->%d %dx%d/%d @%d", s[0], c, o, k, k, st, h);
        String impls = fpd.impl_info_str().getString() + " | " + bdpd.impl_info_str().getString() + " | " + bwpd.impl_info_str().getString();
        memory.desc user = Dnnl.desc(w, memory.format_tag.oihw);
        memory userW = new memory(user, eng), userDw = new memory(user, eng);
        primitive[] prims = {new convolution_forward(fpd), new convolution_backward_data(bdpd), new convolution_backward_weights(bwpd),
                null, null, null};
        IntMemoryMap[] args = {f, bd, bw, null, null, null};
        memory.desc[] to = {fpd.weights_desc(), bdpd.weights_desc()};
        memory[] toMem = {f.get(DNNL_ARG_WEIGHTS), bd.get(DNNL_ARG_WEIGHTS)};
        for (int i = 0; i < 2; i++) {
            if (to[i].equals(user)) continue;
            prims[3 + i] = new reorder(userW, toMem[i]);
            args[3 + i] = reorderArgs(userW, toMem[i]);
        }
        if (!bwpd.diff_weights_desc().equals(user)) {
            prims[5] = new reorder(bw.get(DNNL_ARG_DIFF_WEIGHTS), userDw);
            args[5] = reorderArgs(bw.get(DNNL_ARG_DIFF_WEIGHTS), userDw);
        }
        return new Conv(what, (int) s[0], prims, args, impls);
    }

    private static IntMemoryMap reorderArgs(memory from, memory to) {
        IntMemoryMap m = new IntMemoryMap();
        m.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM, from);
        m.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO, to);
        return m;
    }
}
