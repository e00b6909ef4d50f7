package io.sparkvision.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * The confusion matrix as a heat map: rows are true classes, columns predictions, each cell shaded by the
 * fraction of its row and labelled with its count. Off-diagonal cells use a second colour so mistakes stand out.
 */
public final class ConfusionMatrixImage {
    private ConfusionMatrixImage() {
    }

    /** Above this many classes the picture shows only the classes of the largest confusions. */
    static final int MAX_DRAWN = 40;

    public static byte[] png(long[][] m, List<String> classes) throws IOException {
        if (classes.size() > MAX_DRAWN) {
            int[] keep = mostConfusedClasses(m, 30);
            long[][] sub = new long[keep.length][keep.length];
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < keep.length; i++) {
                names.add(classes.get(keep[i]));
                for (int j = 0; j < keep.length; j++) sub[i][j] = m[keep[i]][keep[j]];
            }
            return draw(sub, names, "Confusion matrix of the " + keep.length + " classes of the largest confusions, of " + classes.size());
        }
        return draw(m, classes, "Confusion matrix");
    }

    /** Up to {@code limit} classes, taken pair by pair from the largest off-diagonal cells. */
    static int[] mostConfusedClasses(long[][] m, int limit) {
        java.util.List<long[]> cells = new java.util.ArrayList<>();
        for (int a = 0; a < m.length; a++) for (int p = 0; p < m.length; p++) if (a != p && m[a][p] > 0) cells.add(new long[] {a, p, m[a][p]});
        cells.sort((x, y) -> Long.compare(y[2], x[2]));
        java.util.LinkedHashSet<Integer> keep = new java.util.LinkedHashSet<>();
        for (long[] c : cells) {
            if (keep.size() >= limit) break;
            keep.add((int) c[0]);
            if (keep.size() < limit) keep.add((int) c[1]);
        }
        for (int i = 0; keep.size() < Math.min(limit, 2) && i < m.length; i++) keep.add(i);
        return keep.stream().sorted().mapToInt(Integer::intValue).toArray();
    }

    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    static final int MIN_WIDTH = 420;

    /**
     * Where everything goes: row labels left of the grid, column labels above it turned upright (so neighbours never
     * run together), the title wrapped over as many lines as the picture's width needs.
     */
    record Layout(int cell, boolean labels, int left, int titleBottom, int top, int width, int height, List<String> titleLines) {
        static Layout of(int n, List<String> names, String title) {
            int cell = n <= 12 ? 48 : n <= 40 ? 20 : 10;
            boolean labels = n <= 40;
            FontMetrics label = metrics(LABEL_FONT), head = metrics(TITLE_FONT);
            int longest = 0;
            if (labels) for (String name : names) longest = Math.max(longest, label.stringWidth(shorten(name)));
            int left = labels ? longest + 14 : 30;
            int width = Math.max(left + n * cell + 20, MIN_WIDTH);
            List<String> lines = wrap(title, head, width - 20);
            int titleBottom = 10 + lines.size() * head.getHeight();
            int top = titleBottom + (labels ? longest + 14 : 10);
            return new Layout(cell, labels, left, titleBottom, top, width, top + n * cell + 20, lines);
        }
    }

    private static byte[] draw(long[][] m, List<String> classes, String subject) throws IOException {
        int n = classes.size();
        Layout l = Layout.of(n, classes, subject + " (rows: true class, columns: predicted class)");
        int cell = l.cell(), top = l.top(), margin = l.left();
        BufferedImage img = new BufferedImage(l.width(), l.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(TITLE_FONT);
        FontMetrics head = g.getFontMetrics();
        for (int i = 0; i < l.titleLines().size(); i++) g.drawString(l.titleLines().get(i), 10, 8 + head.getAscent() + i * head.getHeight());
        Font cellFont = new Font(Font.SANS_SERIF, Font.PLAIN, cell >= 40 ? 11 : 8);
        for (int a = 0; a < n; a++) {
            long row = 0;
            for (long v : m[a]) row += v;
            for (int p = 0; p < n; p++) {
                double f = row == 0 ? 0 : m[a][p] / (double) row;
                // diagonal: shades of blue by recall; off-diagonal: shades of red, amplified so rare mistakes show
                Color c = a == p ? blend(Color.WHITE, new Color(33, 102, 172), f)
                        : blend(Color.WHITE, new Color(202, 0, 32), Math.min(1, Math.sqrt(f) * 1.5));
                int x = margin + p * cell, y = top + a * cell;
                g.setColor(c);
                g.fillRect(x, y, cell, cell);
                if (cell >= 40 && m[a][p] > 0) {
                    g.setFont(cellFont);
                    g.setColor(f > 0.5 ? Color.WHITE : Color.BLACK);
                    String s = Long.toString(m[a][p]);
                    FontMetrics fm = g.getFontMetrics();
                    g.drawString(s, x + (cell - fm.stringWidth(s)) / 2, y + (cell + fm.getAscent()) / 2 - 2);
                }
            }
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawRect(margin, top, n * cell, n * cell);
        if (l.labels()) {
            g.setFont(LABEL_FONT);
            g.setColor(Color.BLACK);
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i < n; i++) {
                String name = shorten(classes.get(i));
                g.drawString(name, margin - fm.stringWidth(name) - 6, top + i * cell + (cell + fm.getAscent()) / 2 - 2);
                // Upright, reading bottom to top, centred on its column and ending just above the grid.
                Graphics2D up = (Graphics2D) g.create();
                up.translate(margin + i * cell + (cell + fm.getAscent()) / 2 - 2, top - 6);
                up.rotate(-Math.PI / 2);
                up.drawString(name, 0, 0);
                up.dispose();
            }
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static FontMetrics metrics(Font f) {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        try {
            return g.getFontMetrics(f);
        } finally {
            g.dispose();
        }
    }

    /** Words over lines of at most {@code width} pixels (a single longer word keeps a line of its own). */
    static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new java.util.ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            String candidate = line.length() == 0 ? word : line + " " + word;
            if (line.length() > 0 && fm.stringWidth(candidate) > width) {
                lines.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(candidate);
            }
        }
        if (line.length() > 0) lines.add(line.toString());
        return lines;
    }

    static String shorten(String s) {
        return s.length() <= 16 ? s : s.substring(0, 15) + "…";
    }

    private static Color blend(Color a, Color b, double t) {
        t = Math.max(0, Math.min(1, t));
        return new Color((int) (a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) (a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) (a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }
}
