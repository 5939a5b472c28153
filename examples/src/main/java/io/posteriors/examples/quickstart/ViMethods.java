package io.posteriors.examples.quickstart;

import java.util.List;

/** The quick-start entries of posteriors-vi. */
final class ViMethods {

    private ViMethods() {}

    static List<QuickStartMethod> all() {
        return List.of();
    }
}
