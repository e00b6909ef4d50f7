package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer summaries: shapes from DL4J's propagation match the papers' figures; totals match the counts. */
class ModelSummaryTest {
    private static final InputShape IMAGENET = new InputShape(3, 224, 224);

    @Test
    void alexNet2012ShapesFollowThePaperInOrder() {
        NetConf conf = Architectures.get("alexnet2012").configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        List<ModelStats.Row> rows = ModelStats.summary(conf);
        // The paper's HxWxC 55x55x96 -> 27x27x96 -> 27x27x256 -> 13x13x256 -> 13x13x384 -> 13x13x384 -> 13x13x256
        // -> 6x6x256, written CxHxW as the summary prints them; must appear as a subsequence, in this order.
        String[] expected = {"96x55x55", "96x27x27", "256x27x27", "256x13x13", "384x13x13", "384x13x13", "256x13x13", "256x6x6"};
        List<String> shapes = new ArrayList<>();
        for (ModelStats.Row r : rows) shapes.add(r.output());
        int at = 0;
        for (String s : shapes) if (at < expected.length && s.equals(expected[at])) at++;
        assertEquals(expected.length, at, "summary shapes " + shapes);
        assertEquals("96x55x55", rows.get(0).output(), "conv1 11x11/4 pad 2 on 224 gives 55");
        // conv1 multiply-adds: 55*55 outputs x 96 filters x 11*11*3 weights
        assertEquals(55L * 55 * 96 * 11 * 11 * 3, rows.get(0).multiplyAdds());
        String table = ModelStats.format("alexnet2012", conf, rows);
        assertTrue(table.contains("62,378,344"), table);
        int pos = 0;
        for (String s : expected) {
            pos = table.indexOf(" " + s + " ", pos);
            assertTrue(pos >= 0, s + " missing or out of order in\n" + table);
        }
    }

    @Test
    void graphSummariesCoverEveryVertexAndSumToTheCount() {
        NetConf conf = Architectures.get("resnet18").configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        List<ModelStats.Row> rows = ModelStats.summary(conf);
        assertEquals(conf.graph().getVertices().size(), rows.size());
        long p = 0, macs = 0;
        for (ModelStats.Row r : rows) {
            p += r.params();
            macs += r.multiplyAdds();
        }
        assertEquals(11_689_512, p);
        // torchvision/fvcore report ResNet-18 at 1.81-1.82 G multiply-adds for 224x224
        assertTrue(macs > 1.80e9 && macs < 1.83e9, "resnet18 multiply-adds " + macs);
        // the first vertex only turns the NCHW input channels-last (ResNet's tuned layout); conv1 follows it
        assertEquals(Graph.NHWC_INPUT, rows.get(0).name());
        assertEquals("3x224x224", rows.get(0).output());
        assertEquals("conv1.conv", rows.get(1).name());
        assertEquals("64x112x112", rows.get(1).output());
        ModelStats.Row last = rows.get(rows.size() - 1);
        assertEquals("fc", last.name());
        assertEquals("1000", last.output());
        // forward order: every row's inputs come before it
        List<String> seen = new ArrayList<>(conf.graph().getNetworkInputs());
        for (ModelStats.Row r : rows) {
            assertTrue(seen.containsAll(conf.graph().getVertexInputs().get(r.name())), r.name());
            seen.add(r.name());
        }
    }
}
