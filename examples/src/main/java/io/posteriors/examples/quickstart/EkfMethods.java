package io.posteriors.examples.quickstart;

import java.util.List;

/** The quick-start entries of posteriors-ekf. */
final class EkfMethods {

    private EkfMethods() {}

    static List<QuickStartMethod> all() {
        return List.of();
    }
}
