"""Contains all the data models used in inputs/outputs"""

from .auth_change_password_change_password_in import AuthChangePasswordChangePasswordIn
from .auth_login_auth_out import AuthLoginAuthOut
from .auth_login_login_in import AuthLoginLoginIn
from .auth_logout_logout_in import AuthLogoutLogoutIn
from .auth_me_user_out import AuthMeUserOut
from .auth_mfa_totp_confirm_recovery_codes_out import AuthMfaTotpConfirmRecoveryCodesOut
from .auth_mfa_totp_confirm_totp_confirm_in import AuthMfaTotpConfirmTotpConfirmIn
from .auth_mfa_totp_disable_totp_disable_in import AuthMfaTotpDisableTotpDisableIn
from .auth_mfa_totp_setup_totp_setup_in import AuthMfaTotpSetupTotpSetupIn
from .auth_mfa_totp_setup_totp_setup_out import AuthMfaTotpSetupTotpSetupOut
from .auth_password_reset_accepted import AuthPasswordResetAccepted
from .auth_password_reset_confirm_password_reset_confirm_in import AuthPasswordResetConfirmPasswordResetConfirmIn
from .auth_password_reset_password_reset_in import AuthPasswordResetPasswordResetIn
from .auth_refresh_refresh_in import AuthRefreshRefreshIn
from .auth_refresh_token_pair import AuthRefreshTokenPair
from .auth_register_auth_out import AuthRegisterAuthOut
from .auth_register_user_create import AuthRegisterUserCreate
from .auth_verify_email_resend_accepted import AuthVerifyEmailResendAccepted
from .auth_verify_email_user_out import AuthVerifyEmailUserOut
from .auth_verify_email_verify_email_in import AuthVerifyEmailVerifyEmailIn
from .delivery_out import DeliveryOut
from .health_check_health_out import HealthCheckHealthOut
from .health_ready_ready_out import HealthReadyReadyOut
from .job_out import JobOut
from .jobs_get_job_out import JobsGetJobOut
from .jobs_list_job_page import JobsListJobPage
from .jobs_list_state import JobsListState
from .jobs_retry_job_out import JobsRetryJobOut
from .order_event_out import OrderEventOut
from .order_event_out_previous_status_type_0 import OrderEventOutPreviousStatusType0
from .order_event_out_status import OrderEventOutStatus
from .order_event_out_type import OrderEventOutType
from .order_item_out import OrderItemOut
from .order_line import OrderLine
from .order_out import OrderOut
from .order_out_status import OrderOutStatus
from .orders_cancel_order_cancel import OrdersCancelOrderCancel
from .orders_cancel_order_out import OrdersCancelOrderOut
from .orders_cancel_order_out_status import OrdersCancelOrderOutStatus
from .orders_create_order_create import OrdersCreateOrderCreate
from .orders_create_order_out import OrdersCreateOrderOut
from .orders_create_order_out_status import OrdersCreateOrderOutStatus
from .orders_get_order_out import OrdersGetOrderOut
from .orders_get_order_out_status import OrdersGetOrderOutStatus
from .orders_list_events_order_event_page import OrdersListEventsOrderEventPage
from .orders_list_order_page import OrdersListOrderPage
from .orders_list_status import OrdersListStatus
from .orders_update_status_order_out import OrdersUpdateStatusOrderOut
from .orders_update_status_order_out_status import OrdersUpdateStatusOrderOutStatus
from .orders_update_status_order_status_update import OrdersUpdateStatusOrderStatusUpdate
from .orders_update_status_order_status_update_status import OrdersUpdateStatusOrderStatusUpdateStatus
from .problem import Problem
from .product_out import ProductOut
from .products_create_product_create import ProductsCreateProductCreate
from .products_create_product_out import ProductsCreateProductOut
from .products_get_product_out import ProductsGetProductOut
from .products_list_product_page import ProductsListProductPage
from .products_list_sort import ProductsListSort
from .products_update_product_out import ProductsUpdateProductOut
from .products_update_product_update import ProductsUpdateProductUpdate
from .user_out import UserOut
from .users_create_user_create import UsersCreateUserCreate
from .users_create_user_out import UsersCreateUserOut
from .users_get_user_out import UsersGetUserOut
from .users_list_page_user_out import UsersListPageUserOut
from .users_update_put_user_out import UsersUpdatePutUserOut
from .users_update_put_user_update import UsersUpdatePutUserUpdate
from .users_update_user_out import UsersUpdateUserOut
from .users_update_user_update import UsersUpdateUserUpdate
from .validation_issue import ValidationIssue
from .webhook_out import WebhookOut
from .webhooks_create_webhook_create import WebhooksCreateWebhookCreate
from .webhooks_create_webhook_create_event_types_item import WebhooksCreateWebhookCreateEventTypesItem
from .webhooks_create_webhook_created import WebhooksCreateWebhookCreated
from .webhooks_get_webhook_out import WebhooksGetWebhookOut
from .webhooks_list_deliveries_delivery_page import WebhooksListDeliveriesDeliveryPage
from .webhooks_list_deliveries_status import WebhooksListDeliveriesStatus
from .webhooks_list_webhook_page import WebhooksListWebhookPage
from .webhooks_redeliver_accepted import WebhooksRedeliverAccepted
from .webhooks_redeliver_redeliver import WebhooksRedeliverRedeliver
from .webhooks_rotate_secret_webhook_secret import WebhooksRotateSecretWebhookSecret
from .webhooks_update_webhook_out import WebhooksUpdateWebhookOut
from .webhooks_update_webhook_update import WebhooksUpdateWebhookUpdate
from .webhooks_update_webhook_update_event_types_item import WebhooksUpdateWebhookUpdateEventTypesItem

__all__ = (
    "AuthChangePasswordChangePasswordIn",
    "AuthLoginAuthOut",
    "AuthLoginLoginIn",
    "AuthLogoutLogoutIn",
    "AuthMeUserOut",
    "AuthMfaTotpConfirmRecoveryCodesOut",
    "AuthMfaTotpConfirmTotpConfirmIn",
    "AuthMfaTotpDisableTotpDisableIn",
    "AuthMfaTotpSetupTotpSetupIn",
    "AuthMfaTotpSetupTotpSetupOut",
    "AuthPasswordResetAccepted",
    "AuthPasswordResetConfirmPasswordResetConfirmIn",
    "AuthPasswordResetPasswordResetIn",
    "AuthRefreshRefreshIn",
    "AuthRefreshTokenPair",
    "AuthRegisterAuthOut",
    "AuthRegisterUserCreate",
    "AuthVerifyEmailResendAccepted",
    "AuthVerifyEmailUserOut",
    "AuthVerifyEmailVerifyEmailIn",
    "DeliveryOut",
    "HealthCheckHealthOut",
    "HealthReadyReadyOut",
    "JobOut",
    "JobsGetJobOut",
    "JobsListJobPage",
    "JobsListState",
    "JobsRetryJobOut",
    "OrderEventOut",
    "OrderEventOutPreviousStatusType0",
    "OrderEventOutStatus",
    "OrderEventOutType",
    "OrderItemOut",
    "OrderLine",
    "OrderOut",
    "OrderOutStatus",
    "OrdersCancelOrderCancel",
    "OrdersCancelOrderOut",
    "OrdersCancelOrderOutStatus",
    "OrdersCreateOrderCreate",
    "OrdersCreateOrderOut",
    "OrdersCreateOrderOutStatus",
    "OrdersGetOrderOut",
    "OrdersGetOrderOutStatus",
    "OrdersListEventsOrderEventPage",
    "OrdersListOrderPage",
    "OrdersListStatus",
    "OrdersUpdateStatusOrderOut",
    "OrdersUpdateStatusOrderOutStatus",
    "OrdersUpdateStatusOrderStatusUpdate",
    "OrdersUpdateStatusOrderStatusUpdateStatus",
    "Problem",
    "ProductOut",
    "ProductsCreateProductCreate",
    "ProductsCreateProductOut",
    "ProductsGetProductOut",
    "ProductsListProductPage",
    "ProductsListSort",
    "ProductsUpdateProductOut",
    "ProductsUpdateProductUpdate",
    "UserOut",
    "UsersCreateUserCreate",
    "UsersCreateUserOut",
    "UsersGetUserOut",
    "UsersListPageUserOut",
    "UsersUpdatePutUserOut",
    "UsersUpdatePutUserUpdate",
    "UsersUpdateUserOut",
    "UsersUpdateUserUpdate",
    "ValidationIssue",
    "WebhookOut",
    "WebhooksCreateWebhookCreate",
    "WebhooksCreateWebhookCreated",
    "WebhooksCreateWebhookCreateEventTypesItem",
    "WebhooksGetWebhookOut",
    "WebhooksListDeliveriesDeliveryPage",
    "WebhooksListDeliveriesStatus",
    "WebhooksListWebhookPage",
    "WebhooksRedeliverAccepted",
    "WebhooksRedeliverRedeliver",
    "WebhooksRotateSecretWebhookSecret",
    "WebhooksUpdateWebhookOut",
    "WebhooksUpdateWebhookUpdate",
    "WebhooksUpdateWebhookUpdateEventTypesItem",
)
