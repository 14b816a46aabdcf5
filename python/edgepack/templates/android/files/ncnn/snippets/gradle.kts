
// ncnn's prebuilt Android libraries (Tencent/ncnn release {{ncnn_version}}, the Vulkan build: one folder per ABI
// with lib/cmake/ncnn/ncnnConfig.cmake), fetched once into src/main/cpp/third_party before CMake runs.
// The download is checked against edgepack.ncnn.sha256 in gradle.properties: put there the sha256 shown for
// the asset on the release page (edgepack could not download it to pin it). With the folder already in place
// (unzipped by hand, e.g. offline) nothing is downloaded.
val ncnnVersion = "{{ncnn_version}}"
val ncnnName = "ncnn-$ncnnVersion-android-vulkan"
val ncnnUrl = "https://github.com/Tencent/ncnn/releases/download/$ncnnVersion/$ncnnName.zip"
val ncnnRoot = layout.projectDirectory.dir("src/main/cpp/third_party")
val fetchNcnn by tasks.registering {
    description = "Downloads and unpacks $ncnnName.zip (checked against edgepack.ncnn.sha256)"
    val want = providers.gradleProperty("edgepack.ncnn.sha256").orElse("")
    val root = ncnnRoot.asFile
    outputs.dir(root.resolve(ncnnName))
    onlyIf { !root.resolve("$ncnnName/arm64-v8a/lib/cmake/ncnn/ncnnConfig.cmake").isFile }
    doLast {
        root.mkdirs()
        val zip = root.resolve("$ncnnName.zip")
        logger.lifecycle("edgepack: downloading $ncnnUrl")
        java.net.URI(ncnnUrl).toURL().openStream().use { input -> zip.outputStream().use { input.copyTo(it) } }
        val md = java.security.MessageDigest.getInstance("SHA-256")
        zip.inputStream().use { s ->
            val buf = ByteArray(1 shl 16)
            while (true) { val n = s.read(buf); if (n < 0) break; md.update(buf, 0, n) }
        }
        val got = md.digest().joinToString("") { "%02x".format(it) }
        val expected = want.get().trim().lowercase()
        if (expected.isEmpty() || expected != got) {
            zip.delete()
            throw GradleException(
                (if (expected.isEmpty()) "edgepack.ncnn.sha256 is not set in gradle.properties" else "$ncnnName.zip has sha256 $got, expected $expected") +
                    ". Compare $got with the sha256 shown for $ncnnName.zip on https://github.com/Tencent/ncnn/releases/tag/$ncnnVersion," +
                    " then set edgepack.ncnn.sha256=<that value> in gradle.properties; or unzip the release into ${root.path} yourself.",
            )
        }
        copy {
            from(zipTree(zip))
            into(root)
        }
        zip.delete()
    }
}
tasks.configureEach {
    if (name.startsWith("configureCMake") || name.startsWith("buildCMake")) dependsOn(fetchNcnn)
}
