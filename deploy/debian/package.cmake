# The Debian package `ste` (CPack's DEB generator): `cpack -G DEB` in a Release build tree, or
# `bash deploy/debian/build-deb.sh`. What it adds to a plain `cmake --install` is only in the
# `deb` component, which a plain install leaves out (EXCLUDE_FROM_ALL): the systemd units (for
# /usr/bin and the `ste` user), /etc/ste/ste.env (a conffile), the copyright and changelog.
# The maintainer scripts beside this file create the `ste` system user and start nothing.

set(STE_DEB_DIR ${CMAKE_CURRENT_LIST_DIR})
set(STE_DEB_GEN ${CMAKE_BINARY_DIR}/deb)
file(MAKE_DIRECTORY ${STE_DEB_GEN})

# The units shipped in deploy/systemd expect /usr/local/bin and a DynamicUser; the package's run
# /usr/bin's binaries as the `ste` user it creates. Everything else is the same file.
foreach(unit ste-ingester.service ste-evaluator@.service)
  file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/${unit} text)
  string(REGEX REPLACE "# Binary: /usr/local/bin/([a-z-]+) \\([^)]*\\)\\."
                       "# Binary: /usr/bin/\\1 (Debian package ste)." text "${text}")
  string(REPLACE "ExecStart=/usr/local/bin/" "ExecStart=/usr/bin/" text "${text}")
  string(REPLACE "DynamicUser=yes" "User=ste\nGroup=ste" text "${text}")
  file(WRITE ${STE_DEB_GEN}/${unit} "${text}")
endforeach()
execute_process(
  COMMAND gzip -9nc ${STE_DEB_DIR}/changelog
  OUTPUT_FILE ${STE_DEB_GEN}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)

install(FILES ${STE_DEB_GEN}/ste-ingester.service ${STE_DEB_GEN}/ste-evaluator@.service
        DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/ste.env.example
        DESTINATION /etc/ste RENAME ste.env COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${STE_DEB_DIR}/copyright ${STE_DEB_GEN}/changelog.gz ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/ste COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ste)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Sensor Telemetry Engine maintainers <ste-maintainers@lists.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "sensor telemetry ingestion and alerting (NATS to PostgreSQL)")
# CPack writes the summary as the synopsis and this as the extended description.
set(CPACK_PACKAGE_DESCRIPTION
    "ste-ingester consumes sensor readings from NATS JetStream, validates them and
stores them in PostgreSQL in idempotent batches with per-minute rollups.
ste-evaluator runs threshold, deviation and no-data rules on what was stored,
keeps alert episodes, delivers webhooks through an outbox with retries, and
serves the HTTP API and the operator page. ste-admin migrates the schema and
manages tenants and keys.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-15, nats-server")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "supervisor")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${STE_DEB_DIR}/conffiles ${STE_DEB_DIR}/postinst ${STE_DEB_DIR}/prerm ${STE_DEB_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# One package with the binaries (component Unspecified) and the packaging files (deb).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified deb)
include(CPack)
