package io.posteriors.examples.common;

import io.posteriors.TraceListener;
import java.io.PrintStream;
import java.util.function.IntConsumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Text progress bars for the examples' long loops (ASCII style, so logs stay readable), through the
 * library's listener hooks: the library itself prints nothing.
 */
public final class Progress {

    private Progress() {}

    /**
     * Returns a trace listener that shows one bar over all chains' steps.
     *
     * @param out where the bar is drawn
     * @param task the label shown before the bar
     * @return the listener
     */
    public static TraceListener trace(PrintStream out, String task) {
        return new TraceListener() {
            private ProgressBar bar;

            @Override
            public void onStart(int chains, long stepsPerChain) {
                bar = bar(out, task, chains * stepsPerChain);
            }

            @Override
            public void onStep(int chain, long step) {
                bar.step();
            }

            @Override
            public void onEnd(boolean completed) {
                if (bar != null) {
                    bar.close();
                }
            }
        };
    }

    /**
     * Opens a bar over {@code total} units; close it when the loop ends.
     *
     * @param out where the bar is drawn
     * @param task the label shown before the bar
     * @param total the number of units
     * @return the bar
     */
    public static ProgressBar bar(PrintStream out, String task, long total) {
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(out, 100))
                .setUpdateIntervalMillis(500)
                .showSpeed()
                .build();
    }

    /**
     * Returns a consumer that moves {@code bar} to the count it is given (for the predictive's
     * batch counter).
     *
     * @param bar the bar
     * @return the consumer
     */
    public static IntConsumer to(ProgressBar bar) {
        return done -> bar.stepTo(done);
    }
}
