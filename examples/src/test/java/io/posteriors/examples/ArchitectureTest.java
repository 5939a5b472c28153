package io.posteriors.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the architecture of DESIGN.md: core knows no algorithm, methods never use each other, no
 * module reaches into another module's internals, and public API classes never touch the engine.
 */
class ArchitectureTest {

    private static final List<String> METHODS =
            List.of(
                    "io.posteriors.sgmcmc",
                    "io.posteriors.laplace",
                    "io.posteriors.vi",
                    "io.posteriors.ekf");

    private final JavaClasses classes =
            new ClassFileImporter()
                    .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPackages("io.posteriors");

    @Test
    void core_dependsOnNoMethodModule() {
        noClasses()
                .that()
                .resideInAnyPackage(
                        "io.posteriors", "io.posteriors.optim", "io.posteriors.internal")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.posteriors.sgmcmc..",
                        "io.posteriors.laplace..",
                        "io.posteriors.vi..",
                        "io.posteriors.ekf..",
                        "io.posteriors.predictive..",
                        "io.posteriors.spark..",
                        "io.posteriors.examples..",
                        "io.posteriors.benchmarks..")
                .because("core knows no method (DESIGN.md, layers)")
                .check(classes);
    }

    @Test
    void internals_areUsedOnlyInsideTheirOwnPackageTree() {
        noClasses()
                .that()
                .resideOutsideOfPackages("io.posteriors", "io.posteriors.internal..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.posteriors.internal..")
                .because(
                        "core's internal package is not API: method modules use io.posteriors.Scopes")
                .check(classes);
        for (String method : METHODS) {
            noClasses()
                    .that()
                    .resideOutsideOfPackage(method + "..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage(method + ".internal..")
                    .check(classes);
        }
    }

    @Test
    void libraryClassesOutsideInternal_doNotImportTheEngine() {
        noClasses()
                .that()
                .resideInAnyPackage(
                        "io.posteriors",
                        "io.posteriors.optim",
                        "io.posteriors.sgmcmc",
                        "io.posteriors.laplace",
                        "io.posteriors.vi",
                        "io.posteriors.ekf")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("ai.djl.pytorch..")
                .because("only io.posteriors.internal talks to the PyTorch engine directly")
                .check(classes);
    }

    @Test
    void methodModules_neverDependOnEachOther() {
        for (String method : METHODS) {
            String[] others =
                    METHODS.stream()
                            .filter(m -> !m.equals(method))
                            .map(m -> m + "..")
                            .toArray(String[]::new);
            noClasses()
                    .that()
                    .resideInAPackage(method + "..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(others)
                    .check(classes);
        }
    }
}
