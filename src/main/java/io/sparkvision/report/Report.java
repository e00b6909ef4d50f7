package io.sparkvision.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sparkvision.evaluate.EvalResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code report.json} (schema data-schemas/report.schema.json): one evaluation of a model on a split, what the model
 * and the dataset were and, for the train job, how training went. Written by {@link RunReport#write} through
 * util.Json; the components' names and order are the file's.
 *
 * @param topK       the k of {@code top5Accuracy}/{@code top5Error} (5 unless eval.top-k or fewer classes)
 * @param perClass   per class: index, class, examples, accuracy (recall; null without examples), as
 *                   {@link EvalResult#perClass()} has them
 * @param training   the train job's part; null (and left out of the file) for the evaluate job
 * @param provenance the job's provenance (a record of the jobs layer), written as the JSON object it serialises to
 */
public record Report(int formatVersion, double top1Accuracy, double top5Accuracy, double top1Error, double top5Error,
                     int topK, double loss, long examples, List<String> classes, List<Map<String, Object>> perClass,
                     long[][] confusionMatrix, List<Confusion> mostConfused, Model model, Dataset dataset,
                     @JsonInclude(JsonInclude.Include.NON_NULL) Training training, Object provenance) {

    /** How many of the largest confusions the report lists. */
    public static final int MOST_CONFUSED = 10;

    /** The report of evaluation {@code r}; {@code training} null for an evaluate job. */
    public static Report of(EvalResult r, Model model, Dataset dataset, Training training, Object provenance) {
        return new Report(1, r.top1Accuracy(), r.topKAccuracy(), r.top1Error(), r.topKError(), r.topK(), r.loss(),
                r.examples(), r.classes(), r.perClass(), r.confusion(), mostConfused(r, MOST_CONFUSED), model, dataset,
                training, provenance);
    }

    /** The model evaluated: its architecture, size, input (CxHxW) and file. */
    public record Model(String name, long parameters, String input, String path) {
    }

    /** The dataset and split evaluated on (also the {@code dataset} part of model.json). */
    public record Dataset(String name, String root, String split, String contentHash, String manifestHash) {
    }

    /** How the train job trained: epochs run, wall time, throughput, workers and training master. */
    public record Training(int epochs, double wallSeconds, double examplesPerSecond, int workers, String trainingMaster) {
    }

    /** One off-diagonal cell of the confusion matrix: images of {@code trueClass} taken for {@code predictedClass}. */
    public record Confusion(String trueClass, String predictedClass, long count) {
    }

    /** The largest off-diagonal cells, largest first: which true class is most often taken for which. */
    public static List<Confusion> mostConfused(EvalResult r, int limit) {
        List<long[]> cells = new ArrayList<>();
        long[][] c = r.confusion();
        for (int a = 0; a < c.length; a++) for (int p = 0; p < c.length; p++) if (a != p && c[a][p] > 0) cells.add(new long[] {a, p, c[a][p]});
        cells.sort((x, y) -> Long.compare(y[2], x[2]));
        List<Confusion> out = new ArrayList<>();
        for (long[] cell : cells.subList(0, Math.min(limit, cells.size()))) {
            out.add(new Confusion(r.classes().get((int) cell[0]), r.classes().get((int) cell[1]), cell[2]));
        }
        return out;
    }
}
