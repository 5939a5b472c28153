package io.posteriors.examples.quickstart;

import io.posteriors.TensorTree;
import java.io.PrintStream;
import java.util.List;

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
     * Fits the method on the problem, printing progress to {@code out}, and returns the predictives
     * to evaluate, one row of the table each. Arrays live on the problem's manager.
     *
     * @param problem the generated classification problem
     * @param epochs the number of passes over the training batches
     * @param map the MAP parameters (trained once by Adam), for methods that start from them
     * @param out where to print
     * @return the rows
     */
    List<Row> fit(Problem problem, int epochs, TensorTree map, PrintStream out);
}
