"""The words of the Excel sheets' codes: the order sheet (``channels/excel.py``) and its sales platforms
(``services/excel_orders.py``), product links (``services/mapping.py``) and the courier program's round trip
(``services/courier_sheets.py``); and the marketplaces' product statuses.

Data only; ``core/words/__init__.py`` merges it into the one catalogue and renders it. A parameter given as a
(Korean, English) pair (a field's name) is put in each language's text, so both texts use the same placeholders.
"""

from __future__ import annotations

# the order sheet (channels/excel.py) and its platforms (services/excel_orders.py)
EXCEL: dict[str, tuple[str, str]] = {
    # the file as a whole
    "excel_file_unreadable": ("엑셀 파일(.xlsx)로 읽을 수 없습니다: {name}",
                              "Cannot read this as an Excel file (.xlsx): {name}"),
    "excel_file_empty": ("시트에 머리글이나 주문 행이 없습니다: {name}",
                         "The sheet has no header or no order rows: {name}"),
    "excel_too_many_rows": ("행이 너무 많습니다 (최대 {limit}행) — 파일을 나누어 가져오세요",
                            "Too many rows (at most {limit}) — split the file"),
    "excel_required_unmapped": ("필수 항목의 열을 고르세요: {fields}",
                                "Choose a column for the required fields: {fields}"),
    "excel_export_failed": ("파일을 저장할 수 없습니다 (다른 프로그램에서 열려 있나요?): {name}",
                            "Cannot save the file (is it open in another program?): {name}"),
    # one row
    "excel_missing_required": ("필수 항목이 비어 있습니다: {field}", "Required field is empty: {field}"),
    "excel_too_long": ("너무 깁니다 (최대 {limit}자): {field}", "Too long (at most {limit} characters): {field}"),
    "excel_bad_phone": ("연락처 형식이 아닙니다 (숫자 8~15자리): {value}",
                        "Not a phone number (8 to 15 digits): {value}"),
    "excel_bad_quantity": ("수량은 1~1,000,000의 정수여야 합니다: {value}",
                           "Quantity must be a whole number from 1 to 1,000,000: {value}"),
    "excel_bad_zip": ("우편번호는 숫자 5자리입니다 (옛 우편번호 6자리 123-456도 됩니다): {value}",
                      "A postcode is 5 digits (or the old 6, as 123-456): {value}"),
    "excel_unknown_courier": ("알 수 없는 택배사입니다: {value}", "Unknown courier: {value}"),
    "excel_courier_missing": ("송장번호가 있으면 택배사도 적어 주세요: {value}",
                              "A tracking number needs a courier: {value}"),
    "excel_bad_tracking": ("송장번호는 영문·숫자·하이픈(-) 6~30자입니다: {value}",
                           "A tracking number is 6 to 30 letters, digits or hyphens: {value}"),
    "excel_order_has_errors": ("같은 주문의 다른 행({rows})에 오류가 있어 이 주문은 가져오지 않습니다",
                               "Not imported: another row of this order ({rows}) has an error"),
    "excel_platform_name_empty": ("판매처 이름을 입력하세요", "Enter the sales platform's name"),
    "excel_platform_name_long": ("판매처 이름이 너무 깁니다 (최대 {limit}자)",
                                 "The name is too long (at most {limit})"),
    "excel_platform_exists": ("같은 이름의 판매처가 이미 있습니다: {name}", "A sales platform has this name: {name}"),
    "excel_platform_unknown": ("판매처를 찾을 수 없습니다 — 목록을 새로 고치세요",
                               "Sales platform not found — refresh the list"),
}

# product links and shipping items (services/mapping.py)
MAPPING: dict[str, tuple[str, str]] = {
    "mapping_unknown_product": ("판매상품을 찾을 수 없습니다 — 목록을 새로 고치세요",
                                "Sales product not found — refresh the list"),
    "mapping_no_components": ("출고상품을 하나 이상 추가하세요", "Add at least one item"),
    "mapping_bad_quantity": ("수량은 1~9999의 정수여야 합니다: {value}",
                             "Quantity must be a whole number from 1 to 9999: {value}"),
    "mapping_unknown_item": ("없는 출고상품입니다: {item}", "No such item: {item}"),
    "mapping_duplicate_item": ("같은 출고상품이 두 번 들어 있습니다: {item}", "The same item is listed twice: {item}"),
    "mapping_import_stale": ("가져오는 동안 출고상품이 바뀌었습니다 — 다시 가져오세요",
                             "Items changed while importing — import the file again"),
    "mapping_file_unreadable": ("엑셀 파일(.xlsx)로 읽을 수 없습니다: {name}",
                                "Cannot read this as an Excel file (.xlsx): {name}"),
    "mapping_file_headers": ("상품 연결 양식이 아닙니다 — 첫 줄의 머리글이 다릅니다. 필요한 머리글: {expected}",
                             "Not a product-link sheet — the first row's headers differ. Expected: {expected}"),
    "mapping_export_failed": ("파일을 저장할 수 없습니다 (다른 프로그램에서 열려 있나요?): {name}",
                              "Cannot save the file (is it open in another program?): {name}"),
    # one row of an import
    "row_missing_account": ("계정이 비어 있습니다", "Account is empty"),
    "row_unknown_account": ("없는 계정입니다: {value}", "Unknown account: {value}"),
    "row_ambiguous_account": ("같은 이름의 계정이 여러 개입니다: {value}", "Several accounts have this name: {value}"),
    "row_missing_product_code": ("상품코드가 비어 있습니다", "Product code is empty"),
    "row_code_too_long": ("{field}가 너무 깁니다 (최대 {limit}자)", "{field} is too long (at most {limit})"),
    "row_missing_sku": ("출고상품 SKU가 비어 있습니다", "Item SKU is empty"),
    "row_unknown_sku": ("없는 출고상품 SKU입니다: {value}", "Unknown item SKU: {value}"),
    "row_bad_quantity": ("수량은 1~9999의 정수여야 합니다: {value}",
                         "Quantity must be a whole number from 1 to 9999: {value}"),
    "row_duplicate": ("같은 상품에 같은 SKU가 또 있습니다 ({first}행과 중복)",
                      "The same SKU again for this product (see row {first})"),
    "row_product_has_errors": ("같은 상품의 다른 행({rows})에 오류가 있어 이 상품은 가져오지 않습니다",
                               "Not imported: another row of this product has an error (row {rows})"),
    # creating shipping items from sales products
    "items_refused": ("출고상품을 만들지 않았습니다 — 문제 {count}개: {first}",
                      "No item was created — {count} problem(s): {first}"),
    "item_none": ("만들 출고상품이 없습니다 — 판매상품을 고르세요", "Nothing to create — pick sales products"),
    "item_product_repeated": ("같은 판매상품이 두 번 들어 있습니다 ({other}번째 줄과 같음)",
                              "The same sales product is listed twice (see line {other})"),
    "item_name_empty": ("출고상품명이 비어 있습니다", "The item name is empty"),
    "item_name_too_long": ("출고상품명이 너무 깁니다 (최대 {limit}자)", "The item name is too long (at most {limit})"),
    "item_sku_empty": ("SKU가 비어 있습니다", "The SKU is empty"),
    "item_sku_too_long": ("SKU가 너무 깁니다 (최대 {limit}자): {sku}", "The SKU is too long (at most {limit}): {sku}"),
    "item_sku_taken": ("SKU {sku}는 이미 다른 출고상품의 SKU입니다: {item} — 다른 SKU를 쓰거나 그 출고상품에 "
                       "연결하세요",
                       "SKU {sku} already belongs to another item: {item} — choose another SKU, or link to that item"),
    "item_sku_repeated": ("SKU {sku}가 {other}번째 줄과 같습니다", "SKU {sku} is the same as on line {other}"),
    "item_barcode_bad": ("바코드는 공백 없이 영문·숫자·기호로 {limit}자까지입니다: {barcode}",
                         "A barcode is up to {limit} letters, digits or symbols, without spaces: {barcode}"),
    "item_barcode_taken": ("바코드 {barcode}는 이미 다른 출고상품의 바코드입니다: {item}",
                           "Barcode {barcode} already belongs to another item: {item}"),
    "item_barcode_repeated": ("바코드 {barcode}가 두 번 들어 있습니다 ({other}번째 줄)",
                              "Barcode {barcode} is listed twice (line {other})"),
    "item_barcode_reserved": ("바코드 {barcode}는 스테이션 명령이나 작업자 카드의 바코드입니다",
                              "Barcode {barcode} is a station command or a packer badge"),
    "item_conflict": ("방금 다른 곳에서 같은 SKU나 바코드가 저장되었습니다 — 다시 시도하세요",
                      "The same SKU or barcode was just saved elsewhere — try again"),
}

# the marketplace's status words (SmartStore's statusType, option "usable"), shown beside a product
MARKET_STATUS: dict[str, tuple[str, str]] = {
    "SALE": ("판매중", "On sale"),
    "OUTOFSTOCK": ("품절", "Out of stock"),
    "SUSPENSION": ("판매중지", "Suspended"),
    "WAIT": ("판매대기", "Waiting"),
    "CLOSE": ("판매종료", "Closed"),
    "PROHIBITION": ("판매금지", "Prohibited"),
    "DELETE": ("삭제됨", "Deleted"),
    "UNUSABLE": ("옵션 사용 안 함", "Option not in use"),
}

# the courier program's round trip (services/courier_sheets.py)
COURIER: dict[str, tuple[str, str]] = {
    # templates
    "courier_template_name_empty": ("양식 이름을 입력하세요", "Enter the template's name"),
    "courier_template_courier": ("알 수 없는 택배사입니다: {courier}", "Unknown courier: {courier}"),
    "courier_template_no_columns": ("열을 하나 이상 넣으세요", "Add at least one column"),
    "courier_template_header_empty": ("{n}번째 열의 머리글을 입력하세요", "Enter the header of column {n}"),
    "courier_template_header_twice": ("같은 머리글이 두 번 있습니다: {header}", "The header is there twice: {header}"),
    "courier_template_field_unknown": ("{n}번째 열의 항목을 고르세요", "Choose the field of column {n}"),
    "courier_template_no_key": ("택배 키(고객 참조) 열이 있어야 결과 파일이 택배에 맞춰집니다",
                                "A parcel key (customer reference) column is needed to match the result back"),
    "courier_template_unknown": ("양식을 찾을 수 없습니다 — 다시 여세요", "Template not found — open the screen again"),
    "courier_templates_save_failed": ("양식을 저장하지 못했습니다: {name}", "Could not save the templates: {name}"),
    "courier_templates_bad_file": ("양식 파일이 잘못되어 기본 양식을 씁니다 ({kept_as}에 보관): {problems}",
                                   "The templates file is invalid, the starting templates are used (kept as "
                                   "{kept_as}): {problems}"),
    # the result file
    "courier_file_unreadable": ("결과 파일을 읽을 수 없습니다 (.xlsx, .xls, .csv): {name}",
                                "Cannot read the result file (.xlsx, .xls, .csv): {name}"),
    "courier_columns_missing": ("열을 고르세요: {fields}", "Choose the columns: {fields}"),
    # one row: the reference
    "ref_empty": ("택배 키·주문번호·상품주문번호가 모두 비어 있습니다",
                  "No parcel key, order number or product-order id in this row"),
    "ref_unknown": ("PackDesk에 없는 참조입니다: {reference}", "Not a parcel PackDesk knows: {reference}"),
    "ref_ambiguous": ("여러 택배에 해당합니다 ({count}개): {reference} — 택배 키로 맞추세요",
                      "Matches {count} parcels: {reference} — match by parcel key"),
    "ref_no_parcel": ("택배 묶음이 없는 주문입니다 (송장이 주문과 함께 왔거나 포장이 끝남): {reference}",
                      "This order has no parcel waiting (its waybill came with it, or it is packed): "
                      "{reference}"),
    # one row: the number
    "number_scientific": ("송장번호가 지수 표기로 바뀌어 숫자가 사라졌습니다: {number} — 택배사 프로그램에서 "
                          "결과를 다시 받거나 열 서식을 텍스트로 저장하세요",
                          "The tracking number became scientific notation and lost digits: {number} — take "
                          "the result from the courier program again, or save the column as text"),
    "number_not_whole": ("송장번호가 정수가 아닙니다: {number}", "The tracking number is not a whole number: {number}"),
    "number_float_digits": ("엑셀이 숫자로 저장해 15자리 뒤가 사라졌을 수 있습니다: {number} — 열 서식을 텍스트로 "
                            "저장하세요",
                            "Stored by Excel as a number, digits after the 15th may be lost: {number} — save the "
                            "column as text"),
    "warn_check_digit": ("검증 숫자가 맞지 않지만 설정(경고만)에 따라 등록합니다: {number}",
                         "The check digit does not match; bound anyway as the settings say (warn): {number}"),
    # one row: against the rest of the file
    "file_number_twice": ("같은 파일 {other}행의 다른 택배에 쓰인 번호입니다: {number}",
                          "Row {other} of this file gives this number to another parcel: {number}"),
    "file_conflict": ("같은 파일 {other}행에서 이 택배에 다른 번호({current})를 줍니다 (이 행 {number})",
                      "Row {other} of this file gives this parcel another number ({current}; this row {number})"),
    "file_repeat": ("{other}행과 같은 택배·같은 번호입니다", "The same parcel and number as row {other}"),
    "parcel_cancelled": ("택배의 주문이 모두 취소되었습니다 — 라벨을 버리세요: {parcel}",
                         "Every line of this parcel is cancelled — discard the label: {parcel}"),
}

# the tracking check's codes in an import's words (``import.<code>``): the screen's say "scan again"
IMPORT_TRACKING: dict[str, tuple[str, str]] = {
    "tracking_length": ("{courier} 송장번호는 {lengths}자리입니다 (이 번호 {length}자리: {number})",
                        "{courier} tracking numbers have {lengths} digits (this one: {length}, {number})"),
    "tracking_check_digit": ("송장번호 검증 숫자가 맞지 않습니다: {number} — 택배사 프로그램의 번호인지 확인하세요",
                             "The tracking number's check digit does not match: {number} — is it the courier "
                             "program's number?"),
}
