"""The words of every error code (``KnownError.code`` of every layer) and of the recorder's problems.

Data only; ``core/words/__init__.py`` merges it into the one catalogue and renders it. The Excel sheets' and
the courier round trip's codes are in ``core/words/sheets.py``.
"""

from __future__ import annotations

# why a recorder cannot record: put inside other messages ({problem}, as ``problem.<code>``) and said as errors
# of their own (below)
PROBLEMS: dict[str, tuple[str, str]] = {
    "camera_unavailable": ("카메라를 사용할 수 없습니다", "the camera is not available"),
    "disk_low": ("디스크 공간이 부족합니다", "the disk is almost full"),
    "recording_failed": ("녹화 파일을 쓰지 못했습니다", "the video file could not be written"),
    "recorder_unreachable": ("리얼패킹 프로그램에 연결할 수 없습니다", "the RealPacking program does not answer"),
    "recorder_error": ("리얼패킹 프로그램이 요청을 거부했습니다", "the RealPacking program refused the request"),
    "recorder_starting": ("녹화 프로그램이 시작하는 중입니다", "the recorder is starting"),
}

# what an account's secret needs (services/secrets.py), said wherever a missing keyring is
KEYRING_NEEDED = ("Windows 자격 증명 관리자, macOS 키체인, 또는 Linux의 Secret Service (GNOME 키링, KWallet)가 "
                  "필요합니다",
                  "it needs Windows Credential Manager, the macOS Keychain, or on Linux a Secret Service (GNOME "
                  "Keyring, KWallet)")

# a tracking number that cannot bind to a parcel (core/tracking.py, core/parcels.py): the screen's words ("scan
# again"); an import's are ``IMPORT_TRACKING`` in sheets.py
TRACKING: dict[str, tuple[str, str]] = {
    "tracking_empty": ("송장번호가 비어 있습니다", "The tracking number is empty"),
    "tracking_not_digits": ("송장번호는 숫자만입니다 (하이픈·공백 제외): {number}",
                            "A tracking number is digits only (hyphens and spaces aside): {number}"),
    "tracking_bad_characters": ("송장번호에 쓸 수 없는 문자가 있습니다: {number}",
                                "The tracking number holds characters it cannot have: {number}"),
    "tracking_length": ("{courier} 송장번호는 {lengths}자리입니다 (읽힌 번호 {length}자리: {number}) — 다시 스캔하세요",
                        "{courier} tracking numbers have {lengths} digits (read: {length}, {number}) — scan again"),
    "tracking_check_digit": ("송장번호 검증 숫자가 틀립니다 — 잘못 읽혔을 수 있습니다. 다시 스캔하세요: {number}",
                             "The tracking number's check digit is wrong — probably misread. Scan again: {number}"),
    "tracking_used": ("이미 다른 택배({used_by})에 쓰인 송장번호입니다: {number}",
                      "This tracking number is already on another parcel ({used_by}): {number}"),
    "parcel_has_waybill": ("이 택배는 이미 송장번호 {current}이(가) 있습니다 (새 번호 {number})",
                           "This parcel already has tracking number {current} (new: {number})"),
    "parcel_not_found": ("택배를 찾을 수 없습니다: {parcel}", "No such parcel: {parcel}"),
    "parcel_empty": ("이 택배에는 보낼 상품이 없습니다 (모두 취소됨): {parcel}",
                     "Nothing is left to ship in this parcel (all cancelled): {parcel}"),
    "bind_courier_unknown": ("알 수 없는 택배사 코드입니다: {courier}", "Unknown courier code: {courier}"),
}

# code -> (Korean, English); {names} are filled from the parameters
ERRORS: dict[str, tuple[str, str]] = {
    "error": ("오류가 발생했습니다", "Something went wrong"),
    "catalogue_unsupported": ("이 마켓은 상품 목록을 가져올 수 없습니다: {account}",
                              "This marketplace's products cannot be fetched: {account}"),
    "catalogue_sync_running": ("이 계정의 상품 동기화가 이미 진행 중입니다",
                               "A product sync of this account is running"),
    "account_paused": ("일시 중지된 계정입니다: {account}", "The account is paused: {account}"),
    "account_field_required": ("입력하세요: {field}", "Required: {field}"),
    "account_field_format": ("형식이 맞지 않습니다: {field}", "Not in the expected form: {field}"),
    "account_fields_invalid": ("입력하세요: {missing} — 형식이 맞지 않습니다: {malformed}",
                               "Required: {missing} — not in the expected form: {malformed}"),
    "account_name_taken": ("같은 이름의 계정이 이미 있습니다: {name}", "An account of that name exists: {name}"),
    "station_name_taken": ("스테이션 이름 '{station}'은(는) 다른 PC({host})가 사용 중입니다 — 다른 이름을 정하세요",
                           "Station name '{station}' is in use by another PC ({host}) — choose another name"),
    "report_export_failed": ("보고서를 저장하지 못했습니다: {path}", "Could not save the report: {path}"),
    "pin_invalid": ("PIN은 {min}-{max}자리 숫자입니다", "A PIN is {min} to {max} digits"),
    "db_error": ("데이터베이스를 열 수 없습니다: {path}", "Cannot open the database: {path}"),
    # moving a station's SQLite data to the server (services/dbmove.py, ``packdesk move-to-server``)
    "db_move_refused": ("서버의 데이터베이스가 비어 있지 않아 아무것도 옮기지 않았습니다: {tables}",
                        "The server's database is not empty, so nothing was moved: {tables}"),
    "db_move_mismatch": ("서버에 옮긴 행의 수가 맞지 않습니다 — 서버의 데이터를 쓰지 마세요 "
                         "(이 PC의 데이터는 그대로입니다)",
                         "The rows on the server do not add up — do not use the server's data (this PC's data is "
                         "unchanged)"),
    "db_schema_too_new": ("더 새로운 버전의 PackDesk가 만든 데이터베이스입니다 — 프로그램을 업데이트하세요",
                          "The database was made by a newer PackDesk — update this program"),
    # start-up checks (core/db.py): the station stops rather than start on a new, empty database
    "db_file_missing": ("데이터베이스 파일이 없습니다 — 시작하지 않습니다. 데이터 폴더를 옮겼다면 --data-dir로 "
                        "지정하거나 백업에서 되살리세요: {path}",
                        "The database file is missing — not started. If the data folder moved, start with "
                        "--data-dir; otherwise restore it from a backup: {path}"),
    "db_empty": ("데이터베이스가 비어 있습니다 (0바이트 또는 표 없음) — 새 스테이션으로 만들지 않고 멈춥니다. "
                 "백업에서 되살리거나, 이 파일을 치운 뒤 처음 설정을 다시 하세요: {path}",
                 "The database is empty (zero bytes or no tables) — stopped rather than start a new station. "
                 "Restore it from a backup, or move this file away and run the first-run set-up again: {path}"),
    "db_damaged": ("데이터베이스가 손상되었습니다 — 시작하지 않습니다. 파일을 복사해 두고 백업에서 되살리세요: {path}",
                   "The database is damaged — not started. Keep a copy of the file and restore it from a "
                   "backup: {path}"),
    "db_foreign": ("PackDesk 데이터베이스가 아닙니다 (PackDesk 표와 버전이 없음) — 설정의 데이터베이스를 "
                   "확인하세요: {path}",
                   "This is not a PackDesk database (no PackDesk tables or version) — check the database in "
                   "the settings: {path}"),
    # one running PackDesk per data folder (services/instance.py)
    "instance_running": ("PackDesk가 이 데이터 폴더로 이미 실행 중입니다 (프로세스 {pid}) — 그 창을 쓰세요: {path}",
                         "PackDesk is already running on this data folder (process {pid}) — use that window: "
                         "{path}"),
    "settings_invalid": ("설정 파일의 잘못된 값은 그 항목만 기본값으로 씁니다 (파일은 그대로 둡니다): {problems}",
                         "Invalid settings use their defaults, each on its own (the file is left as it is): "
                         "{problems}"),
    "settings_unsafe": ("설정 파일의 스테이션 이름, 데이터베이스 또는 관리자 PIN이 잘못되어 시작하지 않습니다 "
                        "(기본값으로 바꾸지 않습니다) — 파일을 고치세요: {path}: {problems}",
                        "The station name, database or supervisor PIN in the settings file is invalid, so the "
                        "station does not start (those are never replaced by defaults) — fix the file: {path}: "
                        "{problems}"),
    "settings_unreadable": ("설정 파일을 읽을 수 없어 시작하지 않습니다 (파일은 그대로 둡니다) — 고치거나 지우면 "
                            "처음 설정이 열립니다: {path}: {problems}",
                            "The settings file cannot be read, so the station does not start (the file is left "
                            "as it is) — fix it, or delete it to run the first-run set-up: {path}: {problems}"),
    # settings copied from another PC (services/settings.py import_settings / export_settings)
    "settings_import_unreadable": ("설정 파일을 읽을 수 없습니다 (JSON 파일인지 확인): {problems}",
                                   "The settings file cannot be read (is it a JSON file?): {problems}"),
    "settings_import_foreign": ("PackDesk 설정 내보내기 파일이 아닙니다: {path}",
                                "This is not a PackDesk settings export: {path}"),
    "settings_import_invalid": ("설정 파일의 값이 잘못되었습니다 — 아무것도 바뀌지 않았습니다: {problems}",
                                "The file holds invalid values — nothing was changed: {problems}"),
    "settings_import_newer": ("더 새로운 PackDesk의 설정입니다 (버전 {version}, 이 PC는 {supported}까지) "
                              "— 이 PC의 PackDesk를 업데이트하세요",
                              "Settings of a newer PackDesk (version {version}; this PC reads up to {supported}) "
                              "— update PackDesk on this PC"),
    "settings_import_older": ("너무 오래된 설정 파일입니다 (버전 {version}, {oldest} 이상만 읽을 수 있음)",
                              "The settings file is too old (version {version}; versions from {oldest} can be read)"),
    "settings_export_failed": ("설정을 저장하지 못했습니다: {path}", "Could not save the settings: {path}"),
    "db_unreachable": ("창고 서버에 연결할 수 없습니다 — 새 포장을 시작할 수 없습니다 "
                       "(연결되면 계속됩니다): {code_scanned}",
                       "The warehouse server cannot be reached — no new pack can start (it goes on when it is "
                       "back): {code_scanned}"),
    "lookup_failed": ("조회 실패 — 다시 스캔하세요: {code_scanned}", "Lookup failed — scan again: {code_scanned}"),
    "pack_not_stored": ("포장이 저장되지 않았습니다 — 서버 연결 후 송장을 다시 스캔하세요 (계속되면 관리자에게)",
                        "The pack was not saved — scan the waybill again once the server is back (if it "
                        "persists, tell a supervisor)"),
    "pack_already_completed": ("다른 스테이션에서 이미 완료된 송장입니다 — 중복 포장을 확인하세요",
                               "Another station already completed this waybill — check for a double pack"),
    **{code: (f"녹화 문제 — 포장은 계속됩니다: {ko}", f"Recording problem — packing goes on: {en}")
       for code, (ko, en) in PROBLEMS.items()},
    "no_camera": ("카메라 없음 — 포장 영상을 찍을 수 없습니다. 카메라를 연결하세요 (연결되면 바로 녹화합니다)",
                  "No camera — packs cannot be filmed. Connect a camera (filming starts as soon as it is there)"),
    # a full disk named (core/disk.py where(): disk, folder, free), and what became of the pack ({pack})
    "disk_low": ("녹화 문제 — 포장은 계속됩니다: 디스크 공간이 부족합니다 — {disk} 남은 공간 {free} "
                 "(영상 폴더 {folder})",
                 "Recording problem — packing goes on: the disk is almost full — {disk}, {free} free (video folder "
                 "{folder})"),
    "disk_low_not_started": ("녹화할 수 없어 포장을 시작하지 않습니다: 디스크 공간이 부족합니다 — {disk} 남은 공간 "
                             "{free} (영상 폴더 {folder})",
                             "Cannot record, pack not started: the disk is almost full — {disk}, {free} free "
                             "(video folder {folder})"),
    "recording_failed": ("녹화 문제 — 포장은 계속됩니다: 녹화 파일을 쓰지 못했습니다 (영상 폴더 {folder})",
                         "Recording problem — packing goes on: the video file could not be written (video folder "
                         "{folder})"),
    "recording_disk_full": ("디스크가 가득 차 녹화가 멈췄습니다: {disk} (영상 폴더 {folder}) — 영상은 그 순간까지만 "
                            "남습니다. 공간을 만드세요. 포장은 계속됩니다",
                            "The disk is full and recording stopped: {disk} (video folder {folder}) — the video "
                            "holds what was filmed until then. Make room. Packing goes on"),
    "disk_full": ("디스크가 가득 찼습니다: {disk} (폴더 {folder}, 남은 공간 {free}) — 필요 없는 파일을 지워 공간을 "
                  "만드세요. {pack}",
                  "The disk is full: {disk} (folder {folder}, {free} free) — delete files to make room. {pack}"),
    "disk_space_back": ("디스크에 공간이 생겨 메모리에 보관하던 기록 {count}건을 모두 저장했습니다. {pack}",
                        "There is room on the disk again: everything held in memory ({count} record(s)) is saved. "
                        "{pack}"),
    "channel_error": ("주문 수집 오류", "Order collection error"),
    "channel_auth": ("마켓 인증 실패 — 계정 정보를 확인하세요 {message}{hint}",
                     "Marketplace login failed — check the account {message}{hint}"),
    "channel_rate_limited": ("마켓 요청 한도 초과 — 잠시 후 다시 시도합니다",
                             "Marketplace rate limit — retrying shortly"),
    "channel_transient": ("마켓 연결 오류 — 다시 시도합니다 {message}", "Marketplace connection error — will retry "
                          "{message}"),
    "channel_rejected": ("마켓이 요청을 거부했습니다: {message}", "The marketplace rejected the request: {message}"),
    "dispatch_missing_courier": ("택배사 코드가 없습니다", "No courier code"),
    "courier_unknown": ("이 마켓에 없는 택배사입니다 — 택배사를 고쳐 다시 보내세요",
                        "This marketplace has no code for the courier — fix the courier and resend"),
    "invoice_too_long": ("송장번호가 너무 깁니다 (사방넷은 15자까지)",
                         "Tracking number too long (Sabangnet: 15 characters)"),
    "coupang_box_mixed_tracking": ("한 박스에 다른 송장번호가 섞였습니다 — 박스 하나에 송장 하나",
                                   "Two tracking numbers for one box — one box, one tracking number"),
    "coupang_box_incomplete": ("같은 박스의 다른 상품이 아직 포장되지 않았습니다 — 분리배송은 윙에서 하세요",
                               "Other items of this box are not packed yet — split shipments are done in WING"),
    "coupang_courier_rejected": ("쿠팡이 이 박스의 송장을 서버 오류(500)로 받지 않았습니다 (반영 안 됨) — 쿠팡이 "
                                 "모르는 택배사 코드일 수 있습니다: {message} — 택배사나 계정의 택배사 코드를 고친 뒤 "
                                 "다시 전송하세요",
                                 "Coupang answered this box's tracking number with a server error (500), nothing "
                                 "applied — most likely a courier code it does not know: {message} — fix the courier, "
                                 "or the account's courier codes, then resend"),
    "coupang_box_cancelled": ("쿠팡: 취소 또는 반품된 주문입니다 {message}", "Coupang: the order was cancelled or "
                              "returned {message}"),
    # the outbox's resend with a courier code (services/dispatch.py)
    "dispatch_courier_required": ("택배사를 고르세요", "Choose a courier"),
    "dispatch_missing_tracking": ("송장번호가 없습니다", "No tracking number"),
    "channel_no_result": ("마켓이 이 상품주문에 대해 답하지 않았습니다 — 다시 시도합니다",
                          "The marketplace did not answer for this product order — will retry"),
    "channel_bad_reply": ("마켓의 응답을 읽을 수 없습니다 — 아무것도 가져오지 않았습니다",
                          "The marketplace's reply could not be read — nothing was imported"),
    "collect_range_too_long": ("수집 기간은 최대 {days}일입니다", "A collection covers at most {days} days"),
    "run_abandoned": ("이 수집을 하던 프로그램이 중간에 멈췄습니다 (강제 종료·PC 꺼짐) — 그때까지 저장한 주문은 "
                      "남아 있고 다음 수집이 나머지를 가져옵니다",
                      "The PackDesk running this collection stopped mid-way (killed, PC off) — what it stored is "
                      "kept and the next collection gets the rest"),
    "collect_failed": ("수집이 예기치 않은 오류로 멈췄습니다 — 그때까지 저장한 주문은 남아 있고 다음 수집이 나머지를 "
                       "가져옵니다 (로그 참조)",
                       "The collection stopped on an unexpected error — what it stored is kept and the next "
                       "collection gets the rest (see the log)"),
    "orders_set_aside": ("주문 {count}건은 데이터베이스에 넣을 수 없어 보류했습니다 (나머지는 저장됨) — "
                         "주문번호와 이유는 오류 내용을 보세요",
                         "{count} order(s) could not be stored and were set aside (the rest were stored) — the "
                         "error detail names them and why"),
    "collect_range_invalid": ("수집 기간이 잘못되었습니다 (시작이 끝보다 늦음)", "Invalid period (start after end)"),
    "account_not_ready": ("계정 설정이 끝나지 않았습니다: {account}", "The account is not set up: {account}"),
    "secret_store_unavailable": (f"이 PC에 쓸 수 있는 OS 키링이 없어 시크릿을 저장하거나 읽을 수 없습니다 "
                                 f"({{backend}}) — {KEYRING_NEEDED[0]}",
                                 f"This PC has no usable OS keyring, so the secret cannot be stored or read "
                                 f"({{backend}}) — {KEYRING_NEEDED[1]}"),
    "account_secret_not_stored": (f"계정을 추가하지 않았습니다: 이 PC에 쓸 수 있는 OS 키링이 없어 시크릿을 저장할 수 "
                                  f"없습니다 ({{backend}}) — {KEYRING_NEEDED[0]}",
                                  f"The account was not added: this PC has no usable OS keyring to store its secret "
                                  f"({{backend}}) — {KEYRING_NEEDED[1]}"),
    # orders typed in, force-cancel and delete (services/orders.py); {field} names the field in each language
    "order_field_required": ("{field}: 입력하세요 (필수)", "{field}: required"),
    "order_field_too_long": ("{field}: 최대 {limit}자까지입니다 (지금 {length}자)",
                             "{field}: at most {limit} characters (now {length})"),
    "order_field_invalid": ("{field}: 줄바꿈이나 제어 문자는 쓸 수 없습니다",
                            "{field}: no line breaks or control characters"),
    "order_phone_invalid": ("{field}: 숫자와 ( ) + - 만 써서 15자 이내, 숫자는 8개 이상이어야 합니다 "
                            "(예: 010-1234-5678): {value}",
                            "{field}: digits and ( ) + - only, at most 15 characters, at least 8 digits "
                            "(e.g. 010-1234-5678): {value}"),
    "order_zip_invalid": ("{field}: 숫자 5자리입니다 (예: 06236, 예전 형식 123-456도 가능): {value}",
                          "{field}: 5 digits (e.g. 06236; the old 123-456 also works): {value}"),
    "order_country_invalid": ("{field}: 두 글자 국가 코드(ISO 3166)를 입력하세요 (예: KR): {value}",
                              "{field}: a two-letter country code (ISO 3166), e.g. KR: {value}"),
    "order_country_unsupported": ("{field}: 지금은 국내(KR) 배송 주문만 등록할 수 있습니다: {value}",
                                  "{field}: only domestic (KR) orders can be entered for now: {value}"),
    "order_no_items": ("{field}: 출고상품을 하나 이상 추가하세요 (검색하거나 바코드를 스캔)",
                       "{field}: add at least one item (search, or scan its barcode)"),
    "order_quantity_invalid": ("{field}: {item}의 수량은 1~{limit} 사이의 정수입니다: {value}",
                               "{field}: the quantity of {item} is a whole number from 1 to {limit}: {value}"),
    "order_item_unknown": ("{field}: 없는 출고상품입니다 — 다시 검색하세요: {item}",
                           "{field}: no such item — search again: {item}"),
    "order_item_repeated": ("{field}: 같은 출고상품이 두 번 들어 있습니다 — 수량을 합치세요: {item}",
                            "{field}: the same item is listed twice — add up the quantity: {item}"),
    "order_item_code_too_long": ("{field}: SKU가 너무 길어 주문에 쓸 수 없습니다 (최대 {limit}자): {item}",
                                 "{field}: the SKU is too long for an order (at most {limit}): {item}"),
    "order_no_taken": ("{field}: 판매처 '{platform}'에 같은 주문번호가 이미 있습니다: {value}",
                       "{field}: platform '{platform}' already has this order number: {value}"),
    "order_courier_unknown": ("{field}: 없는 택배사입니다: {value}", "{field}: no such courier: {value}"),
    "order_tracking_invalid": ("{field}: 영문·숫자·하이픈만, 공백 없이 입력하세요: {value}",
                               "{field}: letters, digits and hyphens only, no spaces: {value}"),
    "order_tracking_reserved": ("{field}: PackDesk가 쓰는 번호입니다 (내부 번호 PDM…, 명령·작업자 바코드) — "
                                "비워 두면 내부 번호를 만듭니다: {value}",
                                "{field}: a number PackDesk uses itself (internal PDM…, command or badge) — "
                                "leave it empty for an internal number: {value}"),
    "tracking_taken": ("{field}: 다른 주문({order_no})이 이미 쓰는 송장번호입니다: {value}",
                       "{field}: another order ({order_no}) already uses this tracking number: {value}"),
    "order_numbers_exhausted": ("오늘의 내부 송장번호 {limit}개를 모두 썼습니다 — 송장번호를 직접 입력하세요",
                                "All {limit} internal numbers of today are used — type a tracking number"),
    "order_save_conflict": ("방금 다른 곳에서 같은 주문번호나 송장번호가 저장되었습니다 — 다시 저장하세요",
                            "The same order or tracking number was just saved elsewhere — save again"),
    "order_not_found": ("주문을 찾을 수 없습니다 — 목록을 새로 고치세요", "Order not found — refresh the list"),
    "order_not_manual": ("강제 취소는 수기 주문만 할 수 있습니다 — 수집된 주문은 마켓에서 취소하세요: {order_no}",
                         "Only orders typed in can be force-cancelled — cancel a collected order at its "
                         "marketplace: {order_no}"),
    "order_already_packed": ("이미 포장된 주문은 강제 취소할 수 없습니다 — 택배를 회수하세요: {order_no} ({packed_at})",
                             "A packed order cannot be force-cancelled — get the parcel back: {order_no} "
                             "({packed_at})"),
    "order_already_cancelled": ("이미 강제 취소된 주문입니다: {order_no}", "Already force-cancelled: {order_no}"),
    "order_packing_started": ("포장이 시작된 주문은 삭제할 수 없습니다 — 취소만 할 수 있습니다: {order_no}",
                              "Packing has started on this order: it cannot be deleted, only cancelled: {order_no}"),
    "order_no_parcel": ("이 주문은 송장번호를 기다리는 택배가 없습니다 (이미 송장이 있거나 포장·취소됨): {order_no}",
                        "This order waits for no tracking number (it has one, or is packed or cancelled): "
                        "{order_no}"),
    "label_save_failed": ("라벨을 저장하지 못했습니다: {path}", "Could not save the label: {path}"),
    # packing slips (services/slips.py, ui/packing_slip.py)
    "slip_save_failed": ("포장 지시서를 저장하지 못했습니다: {path}", "Could not save the packing slips: {path}"),
    "slip_none": ("포장 지시서를 낼 택배가 없습니다 — 포장할 상품이 남은, 송장 대기 중인 택배만 나옵니다",
                  "No parcel to print a slip for — only parcels with something left to pack are printed"),
    # a tracking number that cannot bind to a parcel (core/tracking.py, core/parcels.py)
    **TRACKING,
    # staff (services/staff.py)
    "staff_error": ("작업자를 저장하지 못했습니다", "The packer could not be saved"),
    "staff_name_empty": ("작업자 이름을 입력하세요", "Type the packer's name"),
    "staff_name_invalid": ("작업자 이름에 줄바꿈이나 제어 문자는 쓸 수 없습니다: {name}",
                           "No line breaks or control characters in a packer's name: {name}"),
    "staff_name_too_long": ("작업자 이름은 {limit}자까지입니다 (지금 {length}자)",
                            "A packer's name is at most {limit} characters (now {length})"),
    "staff_name_taken": ("같은 이름의 작업자가 이미 있습니다: {name} — 구별되는 이름을 쓰세요 (예: {name} B)",
                         "An active packer is already called {name} — use a name that tells them apart "
                         "(e.g. {name} B)"),
    "staff_name_repeated": ("같은 이름이 두 번 있습니다: {name} ({other}번째 줄과 같음)",
                            "The same name is listed twice: {name} (see line {other})"),
    "staff_none": ("작업자 이름을 한 명 이상 입력하세요", "Type at least one packer's name"),
    "staff_not_found": ("작업자를 찾을 수 없습니다 — 목록을 새로 고치세요", "Packer not found — refresh the list"),
    "staff_conflict": ("방금 다른 곳에서 작업자가 바뀌었습니다 — 다시 시도하세요",
                       "Packers were just changed elsewhere — try again"),
    "staff_print_failed": ("작업자 카드를 저장하지 못했습니다: {path}", "Could not save the badges: {path}"),
    # recordings and clips (services/review.py)
    "recording_not_found": ("녹화 기록을 찾을 수 없습니다", "The recording is not in the index"),
    "recording_file_missing": ("영상 파일이 없습니다 (보존 기간이 지나 삭제되었거나 옮겨짐): {path}",
                               "The video file is gone (deleted by retention, or moved): {path}"),
    "recording_file_elsewhere": ("이 영상은 {station}에서 녹화되어 그 PC에 있습니다 (이 PC에서 보이지 않음): {path} — "
                                 "{station}에서 보거나 영상 폴더를 공유 폴더로 설정하세요",
                                 "Recorded at {station}, kept on that PC (not reachable from here): {path} — watch it "
                                 "there, or set the video folder to a shared folder"),
    # the buyer's video link (services/video_link.py)
    "video_link_not_set_up": ("영상 링크 저장소가 설정되지 않았습니다 — 설정의 '영상 저장소'에서 주소, 버킷, "
                              "키를 입력하세요",
                              "The video-link storage is not set up — enter its address, bucket and keys in "
                              "Settings, 'Video storage'"),
    "video_link_keys_refused": ("저장소가 키를 거부했습니다 — 액세스 키와 시크릿 키를 확인하세요 ({endpoint})",
                                "The storage refused the keys — check the access key and the secret key ({endpoint})"),
    "video_link_unreachable": ("저장소에 연결할 수 없습니다 — 주소와 인터넷 연결을 확인하세요 ({endpoint})",
                               "The storage does not answer — check its address and the internet connection "
                               "({endpoint})"),
    "video_link_bucket_missing": ("저장소에 버킷 '{bucket}'이(가) 없습니다 — 이름을 확인하거나 먼저 만드세요 "
                                  "({endpoint})",
                                  "The storage has no bucket '{bucket}' — check the name, or create it first "
                                  "({endpoint})"),
    "video_link_failed": ("영상을 올리지 못했습니다 ({error}) — 다시 시도하세요",
                          "The video could not be uploaded ({error}) — try again"),
    "video_link_not_finished": ("아직 녹화 중이거나 해시가 없는 영상입니다 — 포장을 마친 뒤에 링크를 만드세요",
                                "The video is still recording or has no hash — make the link once the pack is done"),
    "video_link_lifetime": ("링크 유효 기간은 1초에서 {days}일 사이입니다",
                            "A link lasts from 1 second to {days} days"),
    "video_link_cancelled": ("영상 올리기를 멈췄습니다 — 다음에 이어서 올립니다",
                             "The upload was stopped — it resumes next time"),
    "export_empty_range": ("내보낼 구간이 비어 있습니다 — 시작점과 끝점을 확인하세요",
                           "The range to export is empty — check the in and out points"),
    # claim bundles (services/claim_bundle.py)
    "claim_bundle_empty": ("{subject}: 포장·녹화 기록이 없어 내보낼 클레임 자료가 없습니다",
                           "{subject}: no pack and no recording — there is no claim bundle to export"),
    "return_not_found": ("반품 검수 기록을 찾을 수 없습니다 — 목록을 새로 고치세요",
                         "The return inspection is not in the index — refresh the list"),
    "claim_bundle_write_failed": ("클레임 자료를 저장하지 못했습니다 (디스크 공간, 권한 확인): {path} — 만들다 만 "
                                  "파일은 남기지 않았습니다",
                                  "Could not save the claim bundle (check the disk space and permissions): {path} — "
                                  "no half-made file was left"),
    # the outbox's own codes (services/dispatch.py); a marketplace's come with its words
    "line_cancelled": ("주문이 취소되었습니다 — 택배를 빼세요 (발송하지 않음)",
                       "Order cancelled — pull the parcel (not dispatched)"),
    "line_cancel_requested": ("구매자가 취소를 요청했습니다 — 택배를 보류하세요 (발송하지 않음)",
                              "Buyer asked to cancel — hold the parcel (not dispatched)"),
    "dispatched_other_tracking": ("마켓에 이미 다른 송장으로 발송처리됨: {message}",
                                  "Already dispatched at the marketplace with another tracking number: {message}"),
    "dispatch_error": ("전송 중 프로그램 오류 — 다시 시도합니다", "Program error while sending — will retry"),
    "picture_url": ("상품 사진 주소가 웹 주소(http, https)가 아닙니다",
                    "The product picture is not at a web address (http, https)"),
    "picture_too_big": ("상품 사진이 너무 큽니다 (8 MB 초과)", "The product picture is too big (over 8 MB)"),
    "picture_item_gone": ("출고상품이 삭제되어 사진을 지정할 수 없습니다", "The item is gone: no photo set"),
    "picture_unreadable": ("사진 파일을 읽을 수 없습니다: {file}", "The photo file cannot be read: {file}"),
    "picture_not_image": ("사진 파일이 아닙니다 (PNG, JPEG, GIF, WebP, BMP, 8 MB 이하): {file}",
                          "Not a photo (PNG, JPEG, GIF, WebP or BMP, up to 8 MB): {file}"),
}

# a database connection test (core/db.py ``ConnectionCheck``, as ``db_check.<code>``): short, beside the address
DB_CHECK: dict[str, tuple[str, str]] = {
    "db_ok": ("연결됨, 스키마 최신", "connected, schema up to date"),
    "db_schema_older": ("연결됨, 시작할 때 스키마를 업그레이드합니다",
                        "connected; the schema will be upgraded at start"),
    "db_schema_too_new": ("더 새로운 PackDesk가 만든 데이터베이스 — 이 PC를 업데이트하세요",
                          "made by a newer PackDesk — update this PC"),
    "db_unreachable": ("서버에 연결할 수 없습니다 (주소, 포트, 방화벽 확인)",
                       "cannot reach the server (check host, port, firewall)"),
    "db_bad_login": ("사용자 또는 비밀번호가 틀렸습니다", "wrong user or password"),
    "db_missing": ("데이터베이스가 없습니다 (이름 확인 또는 생성)",
                   "the database does not exist (check the name or create it)"),
}
