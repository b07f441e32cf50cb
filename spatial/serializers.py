"""Output shapes of the parcel API (for the OpenAPI schema); the data itself comes from selectors."""

from rest_framework import serializers


class FourSidesSerializer(serializers.Serializer):
    east = serializers.CharField(help_text="东至 DKDZ")
    west = serializers.CharField(help_text="西至 DKXZ")
    south = serializers.CharField(help_text="南至 DKNZ")
    north = serializers.CharField(help_text="北至 DKBZ")


class ContractorBriefSerializer(serializers.Serializer):
    cbfbm = serializers.CharField(help_text="承包方编码")
    name = serializers.CharField(help_text="承包方名称")
    id_number_masked = serializers.CharField(help_text="证件号码（脱敏）")


class IssuerBriefSerializer(serializers.Serializer):
    fbfbm = serializers.CharField()
    name = serializers.CharField()


class ParcelCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dkbm = serializers.CharField(help_text="地块编码 DKBM")
    dkmc = serializers.CharField(help_text="地块名称 DKMC")
    four_sides = FourSidesSerializer(help_text="四至")
    scmj = serializers.CharField(help_text="实测面积（m²）SCMJ")
    scmjm = serializers.CharField(help_text="实测面积（亩）SCMJM")
    land_class = serializers.CharField(help_text="地块类别 DKLB")
    land_use_type = serializers.CharField(help_text="土地利用类型 TDLYLX")
    grade = serializers.CharField(help_text="地力等级 DLDJ")
    basic_farmland = serializers.BooleanField(help_text="是否基本农田")
    version = serializers.IntegerField()
    issuer = IssuerBriefSerializer()
    contractor = ContractorBriefSerializer(allow_null=True)
    contract_code = serializers.CharField(allow_null=True)
    bbox = serializers.ListField(child=serializers.FloatField(), help_text="[minlon, minlat, maxlon, maxlat]")
    geometry = serializers.JSONField(help_text="GeoJSON MultiPolygon, EPSG:4490")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    message_en = serializers.CharField()
    field = serializers.CharField(allow_null=True)
