package io.posteriors.examples.quickstart;

import java.util.List;

/** The quick-start entries of posteriors-laplace. */
final class LaplaceMethods {

    private LaplaceMethods() {}

    static List<QuickStartMethod> all() {
        return List.of();
    }
}
