"""The demo region's service catalog: sixteen Hangzhou service items and three life events.

The items are written in the catalog file format and loaded with
``services.import_catalog``, as a region's real catalog would be: each
material says where it comes from, pointing at the demo's licence types
(``demo.licences``) and catalog resources (``demo.catalog``) where the
government already holds it. Loading twice changes nothing (same codes, same
versions). Processes are left empty: the standard processes are wired once the
workflow engine lands.
"""

from __future__ import annotations

from typing import Any

from tongban.demo.catalog import (
    BIRTHS_DEATHS_RESOURCE,
    ENTITIES_RESOURCE,
    MARITAL_STATUS_RESOURCE,
    PERSONS_RESOURCE,
    PROPERTY_PERSONS_RESOURCE,
)
from tongban.kernel.actors import SystemActor
from tongban.services import services
from tongban.services.services import ImportResult

SEED_ACTOR = SystemActor("seed-demo")
CITY = "330100"


def _department(kind: str) -> dict[str, str]:
    return {"region": CITY, "kind": kind}


def _upload(name: str, name_en: str, description: str = "", description_en: str = "", *, required: bool = True,
            types: tuple[str, ...] = ("pdf", "jpg", "png"), max_size_mb: int = 10) -> dict[str, Any]:
    return {"name": name, "name_en": name_en, "required": required, "description": description,
            "description_en": description_en,
            "source": {"kind": "upload", "accepted_types": list(types), "max_size_mb": max_size_mb}}


def _licence(name: str, name_en: str, licence_type: str, *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "name_en": name_en, "required": required,
            "source": {"kind": "licence", "licence_type": licence_type}}


def _registry(name: str, name_en: str, resource: str, fields: list[str], *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "name_en": name_en, "required": required,
            "source": {"kind": "registry", "resource": resource, "fields": fields}}


def _field(title: str, title_en: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "string", "maxLength": 200, **(spec or {}), "title": title, "x-title-en": title_en}


def _form(required: list[str], fields: dict[str, dict[str, Any]], *, widgets: dict[str, str] | None = None,
          prefill: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                   "properties": fields, "required": required, "additionalProperties": False},
        "ui": {"order": list(fields), "widgets": widgets or {}, "prefill": prefill or {}},
    }


def _from_registry(resource: str, field: str) -> dict[str, str]:
    return {"source": "registry", "resource": resource, "field": field}


def _from_licence(licence_type: str, field: str) -> dict[str, str]:
    return {"source": "licence", "licence_type": licence_type, "field": field}


PERSON_IDENTITY = _registry("申请人身份信息", "The applicant's identity", PERSONS_RESOURCE, ["id_number", "name"])

ITEMS: list[dict[str, Any]] = [
    {
        "code": "330100-C-XK-0001", "name": "企业设立登记", "name_en": "Business establishment registration",
        "type": "licensing", "department": _department("market_regulation"), "audience": "business",
        "legal_basis": "《中华人民共和国市场主体登记管理条例》第三条、第十九条；《中华人民共和国公司法》第二十九条",
        "legal_basis_en": "Regulations on the Registration and Administration of Market Entities, arts. 3 and 19; "
                          "Company Law, art. 29",
        "conditions": "申请人具有完全民事行为能力；企业名称符合名称登记管理规定；有符合规定的住所（经营场所）；"
                      "公司章程符合法律规定；申请材料齐全、符合法定形式。",
        "conditions_en": "The applicant has full civil capacity; the business name meets the naming rules; the "
                         "business has a lawful address; its articles of association comply with the law; the "
                         "application is complete and in the statutory form.",
        "statutory_days": 15, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "instant_approval": True, "result": {"kind": "licence", "licence_type": "business-licence"},
        "keywords": ["开办企业", "营业执照", "公司注册", "注册公司", "设立登记", "办营业执照", "新办企业"],
        "topics": ["business_registration"],
        "form": _form(
            ["entity_name", "entity_type", "address", "business_scope", "legal_representative",
             "legal_representative_id"],
            {
                "entity_name": _field("企业名称", "Business name"),
                "entity_type": _field("企业类型", "Type of business",
                                      {"enum": ["limited_company", "sole_proprietorship", "partnership"]}),
                "registered_capital": _field("注册资本（万元）", "Registered capital (10,000 yuan)",
                                             {"type": "number", "minimum": 0}),
                "address": _field("住所", "Address"),
                "business_scope": _field("经营范围", "Business scope", {"maxLength": 2000}),
                "legal_representative": _field("法定代表人", "Legal representative"),
                "legal_representative_id": _field("法定代表人身份证件号", "Legal representative's ID number"),
            },
            widgets={"entity_type": "select", "registered_capital": "number", "business_scope": "textarea"},
            prefill={"legal_representative": _from_registry(PERSONS_RESOURCE, "name"),
                     "legal_representative_id": _from_registry(PERSONS_RESOURCE, "id_number")},
        ),
        "materials": [
            _registry("法定代表人身份信息", "The legal representative's identity", PERSONS_RESOURCE,
                      ["id_number", "name", "status"]),
            _upload("公司章程", "Articles of association", "全体股东签署的公司章程。",
                    "The articles of association signed by every shareholder.", types=("pdf",)),
            _licence("住所使用证明（不动产权证书）", "Proof of the address (real-estate title)", "real-estate-title",
                     required=False),
            _upload("住所租赁合同", "Lease of the address", "住所为租赁的，提交租赁合同。",
                    "If the address is leased: the lease.", required=False, types=("pdf",)),
        ],
    },
    {
        "code": "330100-A-QR-0001", "name": "出生登记", "name_en": "Birth registration (household register)",
        "type": "confirmation", "department": _department("public_security"), "audience": "citizen",
        "legal_basis": "《中华人民共和国户口登记条例》第七条",
        "legal_basis_en": "Regulations on Household Registration, art. 7",
        "conditions": "婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。",
        "conditions_en": "Within one month of the birth, the head of household, a relative or a guardian "
                         "declares the birth to the household registration office where the baby lives.",
        "statutory_days": 30, "promised_days": 3, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "document", "name": "户口簿（新生儿登记页）", "name_en": "Household register entry"},
        "keywords": ["新生儿落户", "报户口", "上户口", "出生一件事", "婴儿"],
        "topics": ["birth", "household"],
        "form": _form(
            ["child_name", "sex", "born_on", "guardian_id"],
            {
                "child_name": _field("新生儿姓名", "Name of the baby"),
                "sex": _field("性别", "Sex", {"enum": ["male", "female"]}),
                "born_on": _field("出生日期", "Born on", {"format": "date"}),
                "guardian_id": _field("申报人身份证件号", "Declarant's ID number"),
            },
            widgets={"sex": "radio", "born_on": "date"},
            prefill={"child_name": _from_licence("birth-medical-certificate", "name"),
                     "born_on": _from_licence("birth-medical-certificate", "born_on"),
                     "guardian_id": _from_registry(PERSONS_RESOURCE, "id_number")},
        ),
        "materials": [
            _licence("出生医学证明", "Birth medical certificate", "birth-medical-certificate"),
            _registry("父母身份信息", "The parents' identity", PERSONS_RESOURCE, ["id_number", "name", "address_region"]),
            _registry("父母婚姻状况", "The parents' marital status", MARITAL_STATUS_RESOURCE,
                      ["marital_status", "spouse_id_number"]),
            _registry("出生信息", "Birth record", BIRTHS_DEATHS_RESOURCE, ["birth_certificate_number", "birth_date"]),
        ],
    },
    {
        "code": "330100-B-QR-0001", "name": "内地居民结婚登记", "name_en": "Marriage registration",
        "type": "confirmation", "department": _department("civil_affairs"), "audience": "citizen",
        "legal_basis": "《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》第四条至第七条",
        "legal_basis_en": "Civil Code, art. 1049; Regulations on Marriage Registration, arts. 4-7",
        "conditions": "男女双方完全自愿；男方年满二十二周岁、女方年满二十周岁；双方均无配偶；"
                      "双方不是直系血亲或者三代以内的旁系血亲；双方亲自到婚姻登记机关申请。",
        "conditions_en": "Both consent freely; the man is at least 22 and the woman at least 20; neither is "
                         "married; they are not closely related; both come to the registry in person.",
        "statutory_days": 0, "promised_days": 0, "handling_mode": "in_person", "in_person_trips": 1,
        "result": {"kind": "licence", "licence_type": "marriage-certificate"},
        "keywords": ["领证", "结婚证", "婚姻登记", "结婚"],
        "topics": ["marriage"],
        "form": _form(
            ["spouse_name", "spouse_id_number", "appointment_date"],
            {
                "spouse_name": _field("对方姓名", "Partner's name"),
                "spouse_id_number": _field("对方身份证件号", "Partner's ID number"),
                "appointment_date": _field("预约登记日期", "Appointment date", {"format": "date"}),
            },
            widgets={"appointment_date": "date"},
        ),
        "materials": [
            _registry("双方身份信息", "Both partners' identity", PERSONS_RESOURCE, ["id_number", "name", "birth_date"]),
            _registry("双方婚姻状况", "Both partners' marital status", MARITAL_STATUS_RESOURCE, ["marital_status"]),
            _upload("无配偶及无禁止结婚亲属关系声明", "Declaration of no spouse and no prohibited kinship",
                    "双方在婚姻登记员面前亲笔签署。", "Signed by both in front of the registrar.", types=("pdf",)),
            _upload("双方近期半身免冠合影照片", "Recent photo of the couple", "2寸，红底。",
                    "Two-inch, red background.", types=("jpg", "png"), max_size_mb=5),
        ],
    },
    {
        "code": "330100-D-QR-0001", "name": "社会保险参保登记", "name_en": "Social-insurance enrolment",
        "type": "confirmation", "department": _department("human_resources"), "audience": "both",
        "legal_basis": "《中华人民共和国社会保险法》第五十七条、第五十八条",
        "legal_basis_en": "Social Insurance Law, arts. 57 and 58",
        "conditions": "用人单位自成立之日起三十日内申请办理社会保险登记；用人单位自用工之日起三十日内为职工办理参保登记；"
                      "灵活就业人员可以个人身份参保。",
        "conditions_en": "An employer registers within 30 days of being established and enrols each employee "
                         "within 30 days of hiring; self-employed people may enrol themselves.",
        "statutory_days": 15, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "instant_approval": True,
        "result": {"kind": "document", "name": "社会保险参保登记凭证", "name_en": "Enrolment record"},
        "keywords": ["社保登记", "社保开户", "参保", "五险", "员工参保"],
        "topics": ["social_insurance", "employment", "business_registration"],
        "materials": [
            _licence("营业执照", "Business licence", "business-licence", required=False),
            _registry("单位登记信息", "The employer's registration", ENTITIES_RESOURCE, ["uscc", "name", "status"],
                      required=False),
            PERSON_IDENTITY,
        ],
    },
    {
        "code": "330100-E-QR-0001", "name": "不动产转移登记（二手房买卖）",
        "name_en": "Real-estate transfer registration (resale)",
        "type": "confirmation", "department": _department("natural_resources"), "audience": "both",
        "joint_departments": [_department("tax")],
        "legal_basis": "《中华人民共和国民法典》第二百零九条、第二百一十四条；《不动产登记暂行条例》第十四条",
        "legal_basis_en": "Civil Code, arts. 209 and 214; Interim Regulations on Real-Estate Registration, art. 14",
        "conditions": "不动产买卖合同依法成立；不动产权属清楚、无查封；已依法缴纳契税等税费（税务部门联办，一窗受理）。",
        "conditions_en": "A valid sale contract; clear title with no seizure; the deed tax and other taxes paid "
                         "(the tax bureau handles them jointly at the same window).",
        "statutory_days": 30, "promised_days": 5, "handling_mode": "online_preview", "in_person_trips": 1,
        "result": {"kind": "licence", "licence_type": "real-estate-title"},
        "fees": [
            {"name": "不动产登记费（住宅）", "name_en": "Registration fee (dwelling)", "amount": "80",
             "basis": "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）"},
            {"name": "证书工本费（每增加一本）", "name_en": "Each additional certificate", "amount": "10",
             "basis": "发改价格规〔2016〕2559号"},
        ],
        "keywords": ["过户", "二手房", "房产证", "买房", "房屋过户", "契税"],
        "topics": ["housing", "tax"],
        "form": _form(
            ["location_code", "price", "buyer_share"],
            {
                "location_code": _field("不动产单元号", "Unit number"),
                "price": _field("成交价格（元）", "Price (yuan)", {"type": "number", "minimum": 0}),
                "buyer_share": _field("买受人份额", "Buyer's share"),
            },
            widgets={"price": "number"},
            prefill={"location_code": _from_licence("real-estate-title", "location_code")},
        ),
        "materials": [
            _licence("不动产权证书", "Real-estate title certificate", "real-estate-title"),
            _registry("卖方不动产登记信息", "The seller's registered property", PROPERTY_PERSONS_RESOURCE,
                      ["parcel_count", "parcels"]),
            PERSON_IDENTITY,
            _upload("不动产买卖合同", "Sale contract", "网签备案的存量房买卖合同。", "The registered resale contract.",
                    types=("pdf",)),
            _upload("完税凭证", "Tax payment receipt", "税务部门联办时无需提交。",
                    "Not needed when the tax bureau handles the taxes at the same window.", required=False),
        ],
    },
    {
        "code": "330100-A-QR-0002", "name": "居住证申领", "name_en": "Residence permit application",
        "type": "confirmation", "department": _department("public_security"), "audience": "citizen",
        "legal_basis": "《居住证暂行条例》第二条、第九条", "legal_basis_en": "Interim Regulations on Residence Permits, arts. 2 and 9",
        "conditions": "离开常住户口所在地，到本市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一。",
        "conditions_en": "You live in the city, away from your registered household, for more than six months and "
                         "have a stable job, a stable home or study here.",
        "statutory_days": 15, "promised_days": 7, "handling_mode": "at_most_one_trip", "in_person_trips": 1,
        "result": {"kind": "document", "name": "浙江省居住证", "name_en": "Zhejiang residence permit"},
        "keywords": ["暂住证", "居住登记", "新杭州人", "外地户口"],
        "topics": ["household"],
        "form": _form(
            ["address", "since", "reason"],
            {
                "address": _field("居住地址", "Address in the city"),
                "since": _field("居住起始日期", "Living here since", {"format": "date"}),
                "reason": _field("居住事由", "Reason", {"enum": ["employment", "housing", "study"]}),
            },
            widgets={"since": "date", "reason": "select"},
        ),
        "materials": [
            PERSON_IDENTITY,
            _upload("居住证明", "Proof of residence", "房屋租赁合同、房屋产权证明或单位宿舍证明。",
                    "A lease, proof of ownership or a staff-dormitory certificate.", types=("pdf", "jpg")),
            _upload("近期免冠照片", "Recent photo", "现场采集的可不提交。", "Not needed if taken at the window.",
                    required=False, types=("jpg",), max_size_mb=2),
        ],
    },
    {
        "code": "330100-D-GF-0001", "name": "基本医疗保险医疗费用零星报销",
        "name_en": "Medical-insurance reimbursement of medical costs",
        "type": "payment", "department": _department("human_resources"), "audience": "citizen",
        "legal_basis": "《中华人民共和国社会保险法》第二十八条、第二十九条",
        "legal_basis_en": "Social Insurance Law, arts. 28 and 29",
        "conditions": "参保人员因急诊、异地就医等原因未能直接结算的符合基本医疗保险支付范围的医疗费用。",
        "conditions_en": "Insured people's medical costs covered by basic medical insurance that could not be "
                         "settled directly (emergencies, treatment elsewhere).",
        "statutory_days": 30, "promised_days": 10, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "document", "name": "医疗费用报销结算单", "name_en": "Reimbursement statement"},
        "keywords": ["医保报销", "看病报销", "异地就医", "医药费"],
        "topics": ["medical", "social_insurance"],
        "materials": [
            _licence("社会保障卡", "Social-security card", "social-security-card"),
            _upload("医疗费用票据", "Medical bills", "医疗机构开具的收费票据（电子票据可直接上传）。",
                    "The hospital's receipts (electronic receipts may be uploaded as they are).", types=("pdf", "jpg")),
            _upload("费用明细清单及病历", "Itemised bill and medical record", types=("pdf", "jpg")),
        ],
    },
    {
        "code": "330100-D-QR-0002", "name": "养老保险待遇领取资格认证",
        "name_en": "Pension entitlement verification",
        "type": "confirmation", "department": _department("human_resources"), "audience": "citizen",
        "legal_basis": "《人力资源社会保障部关于全面取消社会保险待遇资格认证有关问题的通知》（人社厅发〔2019〕81号）",
        "legal_basis_en": "Notice of the Ministry of Human Resources and Social Security, 2019 No. 81",
        "conditions": "按月领取基本养老保险待遇的人员；系统通过数据比对未能确认生存状态的，本人通过线上自助认证。",
        "conditions_en": "People drawing a monthly basic pension, when data matching could not confirm that they "
                         "are alive; they confirm online themselves.",
        "statutory_days": 20, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "instant_approval": True,
        "result": {"kind": "none"},
        "keywords": ["养老金认证", "退休认证", "生存认证", "养老金"],
        "topics": ["pension"],
        "materials": [
            _licence("社会保障卡", "Social-security card", "social-security-card"),
            _registry("生存状态", "Whether a death is registered", BIRTHS_DEATHS_RESOURCE, ["deceased"]),
        ],
    },
    {
        "code": "330100-F-GG-0001", "name": "出生医学证明首次签发", "name_en": "Birth medical certificate issue",
        "type": "public_service", "department": _department("health"), "audience": "citizen",
        "legal_basis": "《中华人民共和国母婴保健法》第二十三条", "legal_basis_en": "Maternal and Infant Health Care Law, art. 23",
        "conditions": "在本市助产机构内出生的新生儿，由其父母申领。",
        "conditions_en": "For babies born in a maternity hospital of the city; the parents apply.",
        "statutory_days": 30, "promised_days": 3, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "licence", "licence_type": "birth-medical-certificate"},
        "keywords": ["出生证", "出生证明", "出生一件事", "新生儿"],
        "topics": ["birth", "medical"],
        "materials": [
            _registry("母亲身份信息", "The mother's identity", PERSONS_RESOURCE, ["id_number", "name"]),
            _upload("分娩记录", "Delivery record", "助产机构出具。", "Issued by the maternity hospital.",
                    types=("pdf",)),
        ],
    },
    {
        "code": "330100-G-QR-0001", "name": "新办纳税人信息确认", "name_en": "New taxpayer registration",
        "type": "confirmation", "department": _department("tax"), "audience": "business",
        "legal_basis": "《中华人民共和国税收征收管理法》第十五条", "legal_basis_en": "Tax Collection Administration Law, art. 15",
        "conditions": "已领取营业执照的企业，自领取营业执照之日起三十日内办理。",
        "conditions_en": "Businesses that have a business licence, within 30 days of receiving it.",
        "statutory_days": 3, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "instant_approval": True,
        "result": {"kind": "document", "name": "税务登记信息确认表", "name_en": "Tax registration confirmation"},
        "keywords": ["税务登记", "新办企业", "领发票", "税务报到"],
        "topics": ["tax", "business_registration"],
        "materials": [
            _licence("营业执照", "Business licence", "business-licence"),
            _registry("企业登记信息", "The business's registration", ENTITIES_RESOURCE,
                      ["uscc", "name", "legal_representative_name"]),
        ],
    },
    {
        "code": "330100-A-GG-0001", "name": "企业印章刻制备案", "name_en": "Company seal engraving record",
        "type": "public_service", "department": _department("public_security"), "audience": "business",
        "legal_basis": "《国务院对确需保留的行政审批项目设定行政许可的决定》（国务院令第412号）",
        "legal_basis_en": "State Council Decree No. 412",
        "conditions": "已领取营业执照的企业刻制公章、财务专用章等印章。",
        "conditions_en": "Businesses with a business licence that have their seals engraved.",
        "statutory_days": 1, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "none"},
        "keywords": ["刻章", "公章", "新办企业", "印章"],
        "topics": ["business_registration"],
        "materials": [_licence("营业执照", "Business licence", "business-licence")],
    },
    {
        "code": "330100-D-GF-0002", "name": "失业保险金申领", "name_en": "Unemployment benefit claim",
        "type": "payment", "department": _department("human_resources"), "audience": "citizen",
        "legal_basis": "《中华人民共和国社会保险法》第四十五条", "legal_basis_en": "Social Insurance Law, art. 45",
        "conditions": "失业前用人单位和本人已缴纳失业保险费满一年；非因本人意愿中断就业；已办理失业登记并有求职要求。",
        "conditions_en": "Contributions paid for at least a year; the job ended against your will; you registered "
                         "as unemployed and are looking for work.",
        "statutory_days": 20, "promised_days": 5, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "document", "name": "失业保险金核定通知", "name_en": "Benefit decision"},
        "keywords": ["失业金", "失业补助", "下岗", "找工作"],
        "topics": ["employment", "social_insurance"],
        "materials": [
            _licence("社会保障卡", "Social-security card", "social-security-card"),
            _upload("解除或终止劳动关系证明", "Proof that the employment ended", types=("pdf", "jpg")),
        ],
    },
    {
        "code": "330100-A-QR-0003", "name": "死亡人员户口注销", "name_en": "Household deregistration after a death",
        "type": "confirmation", "department": _department("public_security"), "audience": "citizen",
        "legal_basis": "《中华人民共和国户口登记条例》第八条", "legal_basis_en": "Regulations on Household Registration, art. 8",
        "conditions": "公民死亡后，由户主、亲属、抚养人或者邻居向户口登记机关申报死亡登记，注销户口。",
        "conditions_en": "After a death, the head of household, a relative or a neighbour declares it and the "
                         "household registration is closed.",
        "statutory_days": 30, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "document", "name": "户口注销证明", "name_en": "Deregistration certificate"},
        "keywords": ["销户", "身后一件事", "死亡注销", "去世"],
        "topics": ["death", "household"],
        "materials": [
            _registry("死亡信息", "Death record", BIRTHS_DEATHS_RESOURCE, ["deceased", "death_date",
                                                                        "death_certificate_number"]),
            _registry("申报人身份信息", "The declarant's identity", PERSONS_RESOURCE, ["id_number", "name"]),
        ],
    },
    {
        "code": "330100-D-GF-0003", "name": "丧葬补助金、抚恤金申领", "name_en": "Funeral grant and survivors' pension",
        "type": "payment", "department": _department("human_resources"), "audience": "citizen",
        "legal_basis": "《中华人民共和国社会保险法》第十七条", "legal_basis_en": "Social Insurance Law, art. 17",
        "conditions": "参加基本养老保险的个人因病或者非因工死亡的，其遗属可以领取丧葬补助金和抚恤金。",
        "conditions_en": "When an insured person dies of illness or outside work, the survivors may claim the "
                         "funeral grant and the survivors' pension.",
        "statutory_days": 20, "promised_days": 5, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "document", "name": "待遇核定通知", "name_en": "Benefit decision"},
        "keywords": ["身后一件事", "丧葬费", "抚恤金", "遗属"],
        "topics": ["death", "pension"],
        "materials": [
            _registry("死亡信息", "Death record", BIRTHS_DEATHS_RESOURCE, ["deceased", "death_date"]),
            _registry("申领人身份信息", "The claimant's identity", PERSONS_RESOURCE, ["id_number", "name"]),
            _upload("亲属关系证明", "Proof of kinship", types=("pdf", "jpg")),
        ],
    },
    {
        "code": "330100-A-XK-0001", "name": "机动车驾驶证期满换证", "name_en": "Driving licence renewal",
        "type": "licensing", "department": _department("public_security"), "audience": "citizen",
        "legal_basis": "《机动车驾驶证申领和使用规定》第六十四条",
        "legal_basis_en": "Provisions on Applying for and Using Motor Vehicle Driving Licences, art. 64",
        "conditions": "机动车驾驶证有效期满前九十日内申请换证。",
        "conditions_en": "Within 90 days before the licence expires.",
        "statutory_days": 1, "promised_days": 1, "handling_mode": "fully_online", "in_person_trips": 0,
        "result": {"kind": "licence", "licence_type": "driving-licence"},
        "fees": [{"name": "机动车驾驶证工本费", "name_en": "Licence fee", "amount": "10",
                  "basis": "《关于公安交警部门有关收费标准的通知》（价费字〔1992〕240号）"}],
        "keywords": ["驾照换证", "驾驶证到期", "换驾照"],
        "topics": ["transport"],
        "materials": [
            _licence("机动车驾驶证", "Driving licence", "driving-licence"),
            _upload("身体条件证明", "Medical fitness certificate", "县级或者部队团级以上医疗机构出具。",
                    "From a hospital at county level or above.", types=("pdf", "jpg")),
        ],
    },
    {
        "code": "330100-C-XK-0002", "name": "食品经营许可", "name_en": "Food business licence",
        "type": "licensing", "department": _department("market_regulation"), "audience": "business",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
        "legal_basis_en": "Food Safety Law, art. 35; Measures on Food Business Licensing and Filing",
        "conditions": "具有与经营的食品品种、数量相适应的经营场所、设备设施和食品安全管理人员，以及保证食品安全的规章制度。",
        "conditions_en": "Premises, equipment and food-safety staff fit for the food sold, and rules that keep "
                         "food safe.",
        "statutory_days": 20, "promised_days": 5, "handling_mode": "online_preview", "in_person_trips": 1,
        "result": {"kind": "document", "name": "食品经营许可证", "name_en": "Food business licence"},
        "keywords": ["餐饮许可", "开饭店", "食品许可证", "开店"],
        "topics": ["permits"],
        "materials": [
            _licence("营业执照", "Business licence", "business-licence"),
            _upload("经营场所平面布局图", "Floor plan of the premises", types=("pdf", "jpg")),
            _upload("食品安全管理制度", "Food-safety rules", types=("pdf",)),
        ],
    },
]

LIFE_EVENTS: list[dict[str, Any]] = [
    {
        "code": "birth", "name": "出生一件事", "name_en": "Having a baby", "audience": "citizen",
        "description": "出生医学证明、户口登记、医保参保，一次申请。",
        "description_en": "Birth certificate, household registration and insurance enrolment in one application.",
        "items": ["330100-F-GG-0001", "330100-A-QR-0001", "330100-D-QR-0001"],
    },
    {
        "code": "start-a-business", "name": "开办企业一件事", "name_en": "Starting a business", "audience": "business",
        "description": "营业执照、刻章、税务、社保，一日办结。",
        "description_en": "Business licence, seals, tax and social insurance, done in a day.",
        "items": ["330100-C-XK-0001", "330100-A-GG-0001", "330100-G-QR-0001", "330100-D-QR-0001"],
    },
    {
        "code": "after-death", "name": "身后一件事", "name_en": "After a death", "audience": "citizen",
        "description": "户口注销、丧葬补助金和抚恤金，一次办理。",
        "description_en": "Deregistration, the funeral grant and the survivors' pension, handled together.",
        "items": ["330100-A-QR-0003", "330100-D-GF-0003"],
    },
]


def service_catalog_document() -> dict[str, Any]:
    """Return the demo catalog in the catalog file format (every item published, version 1)."""
    return {
        "format": services.FORMAT,
        "region": CITY,
        "items": [{**item, "version": 1, "status": "published"} for item in ITEMS],
        "life_events": LIFE_EVENTS,
    }


def seed_service_catalog() -> ImportResult:
    """Load the demo catalog through the import (idempotent: a second run writes nothing).

    Needs the org tree, the demo licence types and the catalog resources.
    """
    return services.import_catalog(service_catalog_document(), actor=SEED_ACTOR)
