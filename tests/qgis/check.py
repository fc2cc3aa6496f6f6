"""QGIS reads a running plantiles server as a user would set it up.

usage: python3 check.py BASE_URL OUT_DIR

1. A Vector Tiles connection (URL template, style URL): the layer is
   valid, the MapLibre style converts, and a rendered map shows the
   land-use colours.
2. An OGC API - Features connection: the parcels collection loads with
   the feature count the server reports.
Prints one JSON line with what it saw; exits non-zero on failure.
"""
import json
import os
import sys
import urllib.request

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize

base, out_dir = sys.argv[1], sys.argv[2]
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
seen = {}

uri = (
    f"type=xyz&url={base}/tiles/sample/{{z}}/{{x}}/{{y}}"
    f"&zmin=0&zmax=24&styleUrl={base}/styles/planning"
)
layer = QgsVectorTileLayer(uri, "planning")
assert layer.isValid(), "vector tile layer is not valid"
message, ok = layer.loadDefaultStyle()
assert ok, f"style did not load: {message}"
seen["style_message"] = message
seen["renderer"] = layer.renderer().type() if layer.renderer() else None
seen["styles"] = len(layer.renderer().styles()) if layer.renderer() else 0

with urllib.request.urlopen(f"{base}/tiles/sample") as r:
    tilejson = json.load(r)
west, south, east, north = tilejson["bounds"]
to_3857 = QgsCoordinateTransform(
    QgsCoordinateReferenceSystem("EPSG:4326"),
    QgsCoordinateReferenceSystem("EPSG:3857"),
    QgsProject.instance(),
)
extent = to_3857.transformBoundingBox(QgsRectangle(west, south, east, north))
extent.scale(0.3)
settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
settings.setExtent(extent)
settings.setOutputSize(QSize(800, 600))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(f"{out_dir}/qgis.png")
# Count pixels near rice-land yellow (LUC #fffc8c) and rural residential
# pink (ONT #ffd0ff), the style's colours at its 0.85-0.9 fill opacity.
def near(c, rgb):
    return all(abs(a - b) <= 14 for a, b in zip((c.red(), c.green(), c.blue()), rgb))


luc = ont = 0
for y in range(0, image.height(), 4):
    for x in range(0, image.width(), 4):
        c = image.pixelColor(x, y)
        luc += near(c, (255, 252, 140))
        ont += near(c, (255, 208, 255))
seen["luc_pixels"] = luc
seen["ont_pixels"] = ont

oapif = QgsVectorLayer(
    f"url='{base}' typename='sample.parcels' restrictToRequestBBOX='0'",
    "parcels",
    "OAPIF",
)
assert oapif.isValid(), "OGC API - Features layer is not valid"
seen["oapif_features"] = sum(1 for _ in oapif.getFeatures())
seen["oapif_fields"] = [f.name() for f in oapif.fields()]
print(json.dumps(seen), flush=True)
# QGIS can crash while tearing down its providers at exit; the checks are
# done, so leave without the teardown.
os._exit(0)
