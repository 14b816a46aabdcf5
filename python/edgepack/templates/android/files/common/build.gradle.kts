// Plugins are declared here once (versions in gradle/libs.versions.toml) and applied in app/.
// AGP 9 compiles Kotlin itself, so there is no org.jetbrains.kotlin.android plugin.
plugins {
    alias(libs.plugins.android.application) apply false
}
