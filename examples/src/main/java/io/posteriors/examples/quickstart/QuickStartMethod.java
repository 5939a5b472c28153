package io.posteriors.examples.quickstart;

import java.io.PrintStream;

/** One entry of the quick start's {@code --method} menu. */
public interface QuickStartMethod {

    /**
     * Returns the name given to {@code --method}.
     *
     * @return the name
     */
    String name();

    /**
     * Returns a one-line description.
     *
     * @return the description
     */
    String description();

    /**
     * Runs the method on the problem, printing progress to {@code out}.
     *
     * @param problem the generated classification problem
     * @param epochs the number of passes over the training batches
     * @param out where to print
     */
    void run(Problem problem, int epochs, PrintStream out);
}
